import type { Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import type { SweepCommandResult } from '../sweep.js';
import type { Ui } from '../ui.js';
import { type CommandContext, EXIT_CODES_HELP, hoursArg, signalOption } from './context.js';

/** `stowage sweep`: delete abandoned staged uploads and stale multipart uploads. */
export function defineSweep(program: Command, { run, io, signal }: CommandContext): void {
  program
    .command('sweep')
    .description(
      'delete abandoned staged uploads (upload()/directUpload() staging) and, on S3, stale multipart uploads',
    )
    .option('--to <storage-url>', 'storage to sweep (default: STOWAGE_URL or the add-on variables)')
    .option('--prefix <prefix>', 'staging prefix', '.staging')
    .option('--older-than-hours <n>', 'delete what is older than this', hoursArg, 24)
    .option(
      '--all-multipart',
      "also abort stale multipart uploads anywhere under the storage's root, not only under the staging prefix (a put() killed mid-write leaves one at the final key)",
    )
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action((opts: Record<string, unknown>) =>
      run(opts, async (ui) => {
        const { sweep } = await import('../sweep.js');
        const result = await sweep({
          env: io.env,
          prefix: opts.prefix as string,
          olderThanHours: opts.olderThanHours as number,
          allMultipart: opts.allMultipart === true,
          dryRun: opts.dryRun === true,
          ...(typeof opts.to === 'string' ? { to: opts.to } : {}),
          ...signalOption(signal),
        });
        if (ui.json) ui.printJson(result);
        else renderSweep(ui, result);
        return EXIT.OK;
      }),
    );
}

function renderSweep(ui: Ui, result: SweepCommandResult): void {
  const verb = result.dryRun ? 'would delete' : 'deleted';
  const abortVerb = result.dryRun ? 'would abort' : 'aborted';
  for (const key of result.deleted) ui.line(`${verb} ${key}`);
  for (const upload of result.abortedUploads ?? [])
    ui.line(`${abortVerb} multipart upload of ${upload.key} (started ${upload.initiated.toISOString()})`);
  ui.line(
    `sweep: ${verb} ${result.deleted.length} staged object(s), kept ${result.kept}` +
      (result.unknownAge ? `, ${result.unknownAge} of unknown age left alone` : '') +
      (result.abortedMultipart !== undefined
        ? `, ${abortVerb} ${result.abortedMultipart} stale multipart upload(s)` +
          (result.multipartPrefix === '' ? ' anywhere in the storage' : '')
        : ''),
  );
  if (result.multipartNotSupported) ui.warn(result.multipartNotSupported);
}
