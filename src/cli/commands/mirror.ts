import type { Command } from 'commander';
import { formatBytes } from '../../util/bytes.js';
import { EXIT } from '../exit-codes.js';
import type { MirrorResult } from '../mirror/mirror.js';
import type { Ui } from '../ui.js';
import { type CommandContext, EXIT_CODES_HELP, intArg, signalOption } from './context.js';

/** `stowage mirror <source...> [--to <storage>]`: options and action. */
export function defineMirror(program: Command, { run }: CommandContext): void {
  program
    .command('mirror')
    .description(
      'copy model files from where they live (hf://, s3://, http(s), file:) into your storage once, verified, and pin them in stowage.lock.json',
    )
    .argument(
      '<source...>',
      'files to mirror, e.g. hf://org/repo@main/onnx/*.onnx or https://host/model.onnx',
    )
    .option(
      '--to <storage-url>',
      'storage to copy into, e.g. s3://bucket/models; omitted: boots read each file from its pinned source',
    )
    .option('--prefix <dir>', 'folder the files are restored to, relative to the app root (lock paths)')
    .option('--manifest <file>', 'lock file to write or merge', 'stowage.lock.json')
    .option('--concurrency <n>', 'files copied at the same time', intArg, 4)
    .option('--dry-run', 'pin and check the target, copy and write nothing')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action((sources: string[], opts: Record<string, unknown>) =>
      run(opts, async (ui, io, signal) => {
        const { mirror } = await import('../mirror/mirror.js');
        const result = await mirror(sources, {
          cwd: io.cwd,
          env: io.env,
          manifest: opts.manifest as string,
          concurrency: opts.concurrency as number,
          dryRun: opts.dryRun === true,
          progress: ui.progress(),
          ...(typeof opts.to === 'string' ? { to: opts.to } : {}),
          ...(typeof opts.prefix === 'string' ? { prefix: opts.prefix } : {}),
          ...signalOption(signal),
        });
        if (ui.json) ui.printJson(result);
        else renderMirror(ui, result);
        return EXIT.OK;
      }),
    );
}

export function renderMirror(ui: Ui, r: MirrorResult): void {
  if (r.dryRun) ui.line(ui.style('Dry run: nothing is copied or written.', 'bold'));
  ui.line(`Target: ${r.storage ?? '(none: the lock pins each source; boots read from there)'}`);
  for (const f of r.files) {
    const to = f.key ?? (r.storage ? 'sha256/… (hashed when copied)' : f.origin);
    ui.line(
      `  ${f.action.padEnd(7)}  ${formatBytes(f.size).padStart(8)}  ${f.path} <- ${f.origin}${r.storage ? ` -> ${to}` : ''}`,
    );
  }
  const total = r.files.reduce((sum, f) => sum + f.size, 0);
  if (r.dryRun) {
    ui.line(`${r.files.length} file(s), ${formatBytes(total)}: ${r.present} already in the target.`);
    return;
  }
  ui.line(
    r.storage
      ? `Copied ${r.copied} file(s), ${formatBytes(r.copiedBytes)}; ${r.present} already in the target, verified by size and sha256.`
      : `Pinned ${r.files.length} file(s), ${formatBytes(total)}, to their source.`,
  );
  ui.line(
    r.storage
      ? `Next: commit ${r.manifest}; boots now read ${r.storage}.`
      : `Next: commit ${r.manifest}; boots fetch each file from its source, verified (mirror with --to to stop depending on it).`,
  );
}
