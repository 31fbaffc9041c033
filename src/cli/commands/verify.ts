import type { Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import { type CommandContext, EXIT_CODES_HELP } from './context.js';
import { manifestCommand, manifestInputs } from './manifest-options.js';

/** `stowage verify`: check every manifest entry in storage and on disk. */
export function defineVerify(program: Command, { run, io }: CommandContext): void {
  manifestCommand(
    program,
    'verify',
    'check every manifest entry in storage (size, sha256) and the restored local files',
    8,
  )
    .option('--deep', 'read every object back and hash it, even when storage reports a sha256')
    .addHelpText('after', EXIT_CODES_HELP)
    .action((opts: Record<string, unknown>) =>
      run(opts, async (ui) => {
        const { verify } = await import('../verify.js');
        const { renderVerify } = await import('../render.js');
        const result = await verify({ ...manifestInputs(io, ui, opts), deep: opts.deep === true });
        if (ui.json) ui.printJson(result);
        else renderVerify(ui, result);
        return result.ok ? EXIT.OK : EXIT.FAILURE;
      }),
    );
}
