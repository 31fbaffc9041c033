import type { Command } from 'commander';
import { StowageError } from '../../core/errors.js';
import { EXIT } from '../exit-codes.js';
import { type CommandContext, EXIT_CODES_HELP, intArg } from './context.js';

/** `stowage analyze [dir]`: what the slug would contain and what to move. */
export function defineAnalyze(program: Command, { run, io }: CommandContext): void {
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
        const { analyze } = await import('../analyze.js');
        const { renderAnalyze } = await import('../render.js');
        const result = await analyze({ dir: target, top: opts.top as number, progress: ui.progress() });
        if (ui.json) ui.printJson(result);
        else renderAnalyze(ui, result);
        return EXIT.OK;
      }),
    );
}
