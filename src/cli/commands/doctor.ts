import type { Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import { type CommandContext, EXIT_CODES_HELP, signalOption } from './context.js';

/** `stowage doctor [storage-url]`: probe the configured store live. */
export function defineDoctor(program: Command, { run, io, signal }: CommandContext): void {
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
        const { doctor } = await import('../doctor.js');
        const { renderDoctor } = await import('../doctor-render.js');
        const result = await doctor({
          env: io.env,
          ...(url !== undefined ? { url } : {}),
          ...(typeof opts.origin === 'string' ? { origin: opts.origin } : {}),
          ...signalOption(signal),
        });
        if (ui.json) ui.printJson(result);
        else renderDoctor(ui, result);
        if (signal?.aborted) return EXIT.INTERRUPTED;
        return result.ok ? EXIT.OK : EXIT.FAILURE;
      }),
    );
}
