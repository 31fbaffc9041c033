import { StowageError } from '../../src/errors.js';

/**
 * Loads an optional peer package on first use, so a user who never signs a
 * URL need not install the presigner. A missing package is a clear error
 * naming the install command, not a module-resolution stack.
 */
export async function optionalImport<T>(name: string, load: () => Promise<T>, forWhat: string): Promise<T> {
  try {
    return await load();
  } catch (cause) {
    if ((cause as { code?: string })?.code === 'ERR_MODULE_NOT_FOUND') {
      throw new StowageError(
        'NOT_SUPPORTED',
        `${forWhat} needs the optional package ${name}: npm install ${name}`,
        {
          cause,
        },
      );
    }
    throw cause;
  }
}
