/** Every name (values and types) each package.json entry point exports: entry → sorted names. */
export function entryPointExports(root: string): Map<string, string[]>;
