import { Command, CommanderError } from 'commander';
import { isStowageError } from '../core/errors.js';
import { setLogger } from '../util/log.js';
import { defineAnalyze } from './commands/analyze.js';
import { type CommandContext, EXIT_CODES_HELP, type Runner } from './commands/context.js';
import { defineDoctor } from './commands/doctor.js';
import { defineMigrateAssets } from './commands/migrate-assets.js';
import { defineMirror } from './commands/mirror.js';
import { definePull } from './commands/pull.js';
import { defineSweep } from './commands/sweep.js';
import { defineVerify } from './commands/verify.js';
import { cliMessage, EXIT, type ExitCode, exitCodeFor } from './exit-codes.js';
import { type CliIO, processIO, Ui } from './ui.js';

export { EXIT_CODES_HELP };

export interface RunOptions {
  io?: CliIO;
  /** Cancels the running command (the bin wires SIGINT to it). */
  signal?: AbortSignal;
}

type ProgramName = 'stowage' | 'migrate-assets';

// Command modules are imported when their command runs: `--help` and
// `analyze` never load the loader or an adapter.

/** The `stowage` program: one subcommand per `defineX`. */
function defineStowage(program: Command, context: CommandContext): void {
  program
    .description('move repo weight to object storage and restore it at boot (stowage CLI)')
    .addHelpText('after', EXIT_CODES_HELP);
  defineAnalyze(program, context);
  defineMigrateAssets(program.command('migrate-assets'), context);
  defineMirror(program, context);
  definePull(program, context);
  defineVerify(program, context);
  defineSweep(program, context);
  defineDoctor(program, context);
}

/** Each bin's program; the migrate-assets bin is that one command at the top level. */
const PROGRAMS: Record<ProgramName, (program: Command, context: CommandContext) => void> = {
  stowage: defineStowage,
  'migrate-assets': (program, context) => void defineMigrateAssets(program, context),
};

/** A runner that reports a command's failure on the UI and remembers its exit code. */
function createRunner(io: CliIO, signal: AbortSignal | undefined): { run: Runner; exitCode: () => ExitCode } {
  let code: ExitCode = EXIT.OK;
  const run: Runner = async (opts, body) => {
    const ui = new Ui(io, { json: opts.json === true });
    // The library's log lines go through the UI, so they stay clear of its progress bar.
    const previousLogger = setLogger(ui.logger());
    try {
      code = await body(ui, io, signal);
    } catch (err) {
      code = signal?.aborted ? EXIT.INTERRUPTED : exitCodeFor(err);
      const message = cliMessage(err);
      const errorCode = isStowageError(err) ? err.code : err instanceof Error ? err.name : 'ERROR';
      if (ui.json) ui.printJson({ ok: false, error: { code: errorCode, message }, exitCode: code });
      ui.error(isStowageError(err) ? `${message} [${err.code}]` : message);
    } finally {
      setLogger(previousLogger);
    }
  };
  return { run, exitCode: () => code };
}

/**
 * Runs the CLI with `argv` (the arguments after the program name) and
 * returns the exit code; never calls process.exit, so tests run it in-process.
 */
export async function runCli(
  argv: string[],
  options: RunOptions & { name?: ProgramName } = {},
): Promise<ExitCode> {
  const name = options.name ?? 'stowage';
  const io = options.io ?? processIO();
  const { run, exitCode } = createRunner(io, options.signal);
  const program = new Command(name)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError('(run with --help for usage)');
  PROGRAMS[name](program, { run, io, signal: options.signal });
  if (argv.length === 0 && name === 'stowage') {
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
