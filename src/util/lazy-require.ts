import { createRequire } from 'node:module';

const requireFromHere = createRequire(import.meta.url);

/**
 * Loads a CommonJS package the first time it is needed. The CLI's common
 * paths (a re-run with nothing changed, `--help`) then skip packages they
 * do not use: each costs tens of milliseconds of start-up.
 */
export function lazyRequire<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= requireFromHere(name) as T;
    return loaded;
  };
}
