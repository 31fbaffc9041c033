import type { Command } from 'commander';
import type { CliIO, Ui } from '../ui.js';
import { intArg } from './context.js';

/** A command that works through the manifest's files (pull, verify): its shared options. */
export function manifestCommand(
  program: Command,
  name: string,
  description: string,
  concurrency: number,
): Command {
  return program
    .command(name)
    .description(description)
    .option('--manifest <file>', 'manifest to read', 'stowage.lock.json')
    .option('--from <storage-url>', "storage to use instead of the manifest's (e.g. with credentials)")
    .option('--concurrency <n>', 'parallel transfers', intArg, concurrency)
    .option('--json', 'print the result as JSON');
}

/** Those shared options as the programmatic pull()/verify() take them. */
export function manifestInputs(io: CliIO, ui: Ui, opts: Record<string, unknown>) {
  return {
    cwd: io.cwd,
    env: io.env,
    manifest: opts.manifest as string,
    concurrency: opts.concurrency as number,
    progress: ui.progress(),
    ...(typeof opts.from === 'string' ? { from: opts.from } : {}),
  };
}
