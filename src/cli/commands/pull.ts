import type { Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import { type CommandContext, EXIT_CODES_HELP, signalOption } from './context.js';
import { manifestCommand, manifestInputs } from './manifest-options.js';

/** `stowage pull`: restore the manifest's files, verified. */
export function definePull(program: Command, { run, io, signal }: CommandContext): void {
  manifestCommand(program, 'pull', "restore the manifest's files to their paths, verified by sha256", 4)
    .addHelpText('after', EXIT_CODES_HELP)
    .action((opts: Record<string, unknown>) =>
      run(opts, async (ui) => {
        const { pull } = await import('../pull.js');
        const { renderPull } = await import('../render.js');
        const result = await pull({ ...manifestInputs(io, ui, opts), ...signalOption(signal) });
        if (ui.json) ui.printJson(result);
        else renderPull(ui, result);
        return EXIT.OK;
      }),
    );
}
