import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { isStowageError, StowageError } from '../core/errors.js';
import { parseSize } from '../util/bytes.js';
import { setLogger } from '../util/log.js';
import { cliMessage, EXIT, type ExitCode, exitCodeFor } from './exit-codes.js';
import type { UploadVerification } from './migrate-assets.js';
import { defineMirror } from './mirror-command.js';
import { type CliIO, processIO, Ui } from './ui.js';

export const EXIT_CODES_HELP = `
Exit codes:
  0    success (verify: everything matches)
  1    failure (verify: a mismatch)
  2    usage error (unknown option, missing or invalid argument)
  3    storage not configured or not reachable (no URL, bad credentials, missing bucket)
  130  interrupted`;

export interface RunOptions {
  io?: CliIO;
  /** Cancels the running command (the bin wires SIGINT to it). */
  signal?: AbortSignal;
}

function sizeArg(value: string): number {
  const bytes = parseSize(value);
  if (bytes === undefined) throw new InvalidArgumentError('expected a size such as 500kB, 1MB or 1048576.');
  return bytes;
}

function intArg(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer.');
  return n;
}

const MIGRATE_DESCRIPTION =
  'move large and asset files out of the slug into object storage, record them in stowage.lock.json and .slugignore';

/** Adds the migrate-assets options and action to `command`. */
function defineMigrate(command: Command, run: Runner): Command {
  return command
    .description(MIGRATE_DESCRIPTION)
    .argument(
      '[globs...]',
      'paths to move (picomatch globs); default: media, model, archive, font and pdf files, and anything >= 1 MB',
    )
    .option('--to <storage-url>', 'where to upload (default: $STOWAGE_URL), e.g. s3://bucket/assets')
    .option('--min-size <size>', 'only files at least this big (with globs: both must match)', sizeArg)
    .option('--keep-paths', 'use the file paths as keys instead of content-addressed sha256/<ab>/<hash><ext>')
    .option('--dry-run', 'print the plan and the slug bytes saved; upload and write nothing')
    .option('--untrack', 'also "git rm --cached" the moved files (they stay on disk)')
    .option('--concurrency <n>', 'parallel uploads', intArg, 8)
    .addOption(
      new Option(
        '--verify <mode>',
        'how each upload is checked. put: the upload fails unless the bytes sent match the ' +
          "file's size and sha256 (S3 also checks Content-MD5 on single-request uploads); " +
          'head: put, then a HEAD per object must show that size and sha256; ' +
          'read-back: put, then each object is downloaded and hashed',
      )
        .choices(['put', 'head', 'read-back'])
        .default('put'),
    )
    .option(
      '--recheck',
      'ask storage about every file, even those this machine already uploaded and verified',
    )
    .option('--manifest <file>', 'manifest to write or merge', 'stowage.lock.json')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action((globs: string[], opts: Record<string, unknown>) =>
      run(opts, async (ui, io, signal) => {
        const { migrateAssets } = await import('./migrate-assets.js');
        const { renderMigrate } = await import('./render.js');
        const result = await migrateAssets({
          cwd: io.cwd,
          env: io.env,
          globs,
          to: opts.to as string | undefined,
          minSize: opts.minSize as number | undefined,
          keepPaths: opts.keepPaths === true,
          dryRun: opts.dryRun === true,
          untrack: opts.untrack === true,
          concurrency: opts.concurrency as number,
          verify: opts.verify as UploadVerification,
          recheck: opts.recheck === true,
          manifest: opts.manifest as string,
          progress: ui.progress(),
          ...(signal ? { signal } : {}),
        });
        if (ui.json) ui.printJson(result);
        else {
          const { committedAsIs } = await import('./commit-state.js');
          const committed = result.dryRun
            ? undefined
            : await committedAsIs(io.cwd, [result.manifest, '.slugignore']);
          renderMigrate(ui, result, committed);
        }
        return EXIT.OK;
      }),
    );
}

type Runner = (
  opts: Record<string, unknown>,
  body: (ui: Ui, io: CliIO, signal: AbortSignal | undefined) => Promise<ExitCode>,
) => Promise<void>;

interface Built {
  program: Command;
  exitCode: () => ExitCode;
}

function build(name: 'stowage' | 'migrate-assets', options: RunOptions): Built {
  const io = options.io ?? processIO();
  let code: ExitCode = EXIT.OK;
  const run: Runner = async (opts, body) => {
    const ui = new Ui(io, { json: opts.json === true });
    // The library's log lines go through the UI, so they stay clear of its progress bar.
    const previousLogger = setLogger(ui.logger());
    try {
      code = await body(ui, io, options.signal);
    } catch (err) {
      code = options.signal?.aborted ? EXIT.INTERRUPTED : exitCodeFor(err);
      const message = cliMessage(err);
      const errorCode = isStowageError(err) ? err.code : err instanceof Error ? err.name : 'ERROR';
      if (ui.json) ui.printJson({ ok: false, error: { code: errorCode, message }, exitCode: code });
      ui.error(isStowageError(err) ? `${message} [${err.code}]` : message);
    } finally {
      setLogger(previousLogger);
    }
  };

  const program = new Command(name)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError('(run with --help for usage)');

  if (name === 'migrate-assets') {
    defineMigrate(program, run);
    return { program, exitCode: () => code };
  }

  program
    .description('move repo weight to object storage and restore it at boot (stowage CLI)')
    .addHelpText('after', EXIT_CODES_HELP);

  program
    .command('analyze')
    .description('show what the slug would contain, what weighs most, and what to move')
    .argument('[dir]', 'app directory', '.')
    .option('--top <n>', 'how many files and folders to list', intArg, 10)
    .option('--json', 'print the result as JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action((dir: string, opts: Record<string, unknown>) =>
      run(opts, async (ui) => {
        const { resolve } = await import('node:path');
        const { stat } = await import('node:fs/promises');
        const target = resolve(io.cwd, dir);
        const isDir = await stat(target).then(
          (s) => s.isDirectory(),
          () => false,
        );
        if (!isDir) throw new StowageError('INVALID_ARGUMENT', `analyze: ${dir} is not a directory`);
        const { analyze } = await import('./analyze.js');
        const { renderAnalyze } = await import('./render.js');
        const result = await analyze({
          dir: resolve(io.cwd, dir),
          top: opts.top as number,
          progress: ui.progress(),
        });
        if (ui.json) ui.printJson(result);
        else renderAnalyze(ui, result);
        return EXIT.OK;
      }),
    );

  defineMigrate(program.command('migrate-assets'), run);
  defineMirror(program.command('mirror'), run, intArg).addHelpText('after', EXIT_CODES_HELP);

  for (const [command, description] of [
    ['pull', "restore the manifest's files to their paths, verified by sha256"],
    ['verify', 'check every manifest entry in storage (size, sha256) and the restored local files'],
  ] as const) {
    const sub = program
      .command(command)
      .description(description)
      .option('--manifest <file>', 'manifest to read', 'stowage.lock.json')
      .option('--from <storage-url>', "storage to use instead of the manifest's (e.g. with credentials)")
      .option('--concurrency <n>', 'parallel transfers', intArg, command === 'pull' ? 4 : 8)
      .option('--json', 'print the result as JSON');
    if (command === 'verify') {
      sub.option('--deep', 'read every object back and hash it, even when storage reports a sha256');
    }
    sub.addHelpText('after', EXIT_CODES_HELP).action((opts: Record<string, unknown>) =>
      run(opts, async (ui) => {
        const common = {
          cwd: io.cwd,
          env: io.env,
          manifest: opts.manifest as string,
          concurrency: opts.concurrency as number,
          progress: ui.progress(),
          ...(typeof opts.from === 'string' ? { from: opts.from } : {}),
        };
        const { renderPull, renderVerify } = await import('./render.js');
        if (command === 'pull') {
          const { pull } = await import('./pull.js');
          const result = await pull({ ...common, ...(options.signal ? { signal: options.signal } : {}) });
          if (ui.json) ui.printJson(result);
          else renderPull(ui, result);
          return EXIT.OK;
        }
        const { verify } = await import('./verify.js');
        const result = await verify({ ...common, deep: opts.deep === true });
        if (ui.json) ui.printJson(result);
        else renderVerify(ui, result);
        return result.ok ? EXIT.OK : EXIT.FAILURE;
      }),
    );
  }
  program
    .command('sweep')
    .description(
      'delete abandoned staged uploads (upload()/directUpload() staging) and, on S3, stale multipart uploads',
    )
    .option('--to <storage-url>', 'storage to sweep (default: STOWAGE_URL or the add-on variables)')
    .option('--prefix <prefix>', 'staging prefix', '.staging')
    .option('--older-than-hours <n>', 'delete what is older than this', hoursArg, 24)
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action((opts: Record<string, unknown>) =>
      run(opts, async (ui) => {
        const { sweep } = await import('./sweep.js');
        const result = await sweep({
          env: io.env,
          prefix: opts.prefix as string,
          olderThanHours: opts.olderThanHours as number,
          dryRun: opts.dryRun === true,
          ...(typeof opts.to === 'string' ? { to: opts.to } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        });
        if (ui.json) ui.printJson(result);
        else {
          const verb = result.dryRun ? 'would delete' : 'deleted';
          const abortVerb = result.dryRun ? 'would abort' : 'aborted';
          for (const key of result.deleted) ui.line(`${verb} ${key}`);
          for (const upload of result.abortedUploads ?? [])
            ui.line(
              `${abortVerb} multipart upload of ${upload.key} (started ${upload.initiated.toISOString()})`,
            );
          ui.line(
            `sweep: ${verb} ${result.deleted.length} staged object(s), kept ${result.kept}` +
              (result.unknownAge ? `, ${result.unknownAge} of unknown age left alone` : '') +
              (result.abortedMultipart !== undefined
                ? `, ${abortVerb} ${result.abortedMultipart} stale multipart upload(s)`
                : ''),
          );
          if (result.multipartNotSupported) ui.warn(result.multipartNotSupported);
        }
        return EXIT.OK;
      }),
    );
  program
    .command('doctor')
    .description(
      'probe the configured store live (put, get, range, list, copy, delete, multipart, presigned URLs, CORS) on a scratch prefix it removes again',
    )
    .argument('[storage-url]', 'store to probe (default: STOWAGE_URL or the add-on variables)')
    .option('--origin <origin>', 'also check the CORS preflight of direct uploads from this browser origin')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action((url: string | undefined, opts: Record<string, unknown>) =>
      run(opts, async (ui) => {
        const { doctor } = await import('./doctor.js');
        const { renderDoctor } = await import('./doctor-render.js');
        const result = await doctor({
          env: io.env,
          ...(url !== undefined ? { url } : {}),
          ...(typeof opts.origin === 'string' ? { origin: opts.origin } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        });
        if (ui.json) ui.printJson(result);
        else renderDoctor(ui, result);
        if (options.signal?.aborted) return EXIT.INTERRUPTED;
        return result.ok ? EXIT.OK : EXIT.FAILURE;
      }),
    );
  return { program, exitCode: () => code };
}

function hoursArg(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of hours, 0 or more.');
  return n;
}

// Command modules are imported when their command runs: `--help` and
// `analyze` never load the loader or an adapter.

/**
 * Runs the CLI with `argv` (the arguments after the program name) and
 * returns the exit code; never calls process.exit, so tests run it in-process.
 */
export async function runCli(
  argv: string[],
  options: RunOptions & { name?: 'stowage' | 'migrate-assets' } = {},
): Promise<ExitCode> {
  const { program, exitCode } = build(options.name ?? 'stowage', options);
  if (argv.length === 0 && (options.name ?? 'stowage') === 'stowage') {
    program.outputHelp();
    return EXIT.USAGE;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      const ok =
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help';
      return ok ? EXIT.OK : EXIT.USAGE;
    }
    throw err;
  }
  return exitCode();
}
