import { type Command, Option } from 'commander';
import { EXIT } from '../exit-codes.js';
import type { UploadVerification } from '../migrate-assets.js';
import { type CommandContext, EXIT_CODES_HELP, intArg, signalOption, sizeArg } from './context.js';

const MIGRATE_DESCRIPTION =
  'move large and asset files out of the slug into object storage, record them in stowage.lock.json and .slugignore';

/**
 * Adds the migrate-assets options and action to `command`: the `stowage
 * migrate-assets` subcommand, or the whole program of the migrate-assets bin.
 */
export function defineMigrateAssets(command: Command, { run }: CommandContext): Command {
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
        const { migrateAssets } = await import('../migrate-assets.js');
        const { renderMigrate } = await import('../render.js');
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
          ...signalOption(signal),
        });
        if (ui.json) ui.printJson(result);
        else {
          const { committedAsIs } = await import('../commit-state.js');
          const committed = result.dryRun
            ? undefined
            : await committedAsIs(io.cwd, [result.manifest, '.slugignore']);
          renderMigrate(ui, result, committed);
        }
        return EXIT.OK;
      }),
    );
}
