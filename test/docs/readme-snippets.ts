import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** README.md's code blocks, checked as written: the docs are part of the product. */

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The text of the README section whose heading contains `title`, up to the next heading as high. */
export function readmeSection(title: string): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const lines = readme.split('\n');
  const start = lines.findIndex((line) => /^#{2,4} /.test(line) && line.includes(title));
  if (start < 0) throw new Error(`README.md has no section "${title}"`);
  const level = /^#+/.exec(lines[start]!)![0].length;
  const end = lines.findIndex(
    (line, i) => i > start && /^#+ /.test(line) && /^#+/.exec(line)![0].length <= level,
  );
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

/** The fenced code blocks of a README section written in one of `languages`. */
export function codeBlocks(section: string, languages: string[]): string[] {
  const blocks: string[] = [];
  for (const match of section.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)) {
    if (languages.includes(match[1]!)) blocks.push(match[2]!);
  }
  return blocks;
}

// Where the package's entry points live in this repo (their package.json exports point at dist/).
const ENTRY_POINTS: Record<string, string> = {
  stowage: 'src/index.js',
  'stowage/express': 'src/express/index.js',
  'stowage/local': 'adapters/local/index.js',
  'stowage/memory': 'adapters/memory/index.js',
  'stowage/s3': 'adapters/s3/index.js',
  'stowage/cloudinary': 'adapters/cloudinary/index.js',
};

/** `code` with its `stowage…` imports pointed at this repo's sources, for a file at `filePath`. */
export function fromSources(code: string, filePath: string): string {
  return code.replace(/from '(stowage(?:\/[a-z0-9]+)?)'/g, (whole, name: string) => {
    const target = ENTRY_POINTS[name];
    if (!target) return whole;
    const path = relative(dirname(filePath), join(REPO, target)).split('\\').join('/');
    return `from '${path.startsWith('.') ? path : `./${path}`}'`;
  });
}

/**
 * Type errors of `code` compiled as a module at `filePath` (it need not exist) with the repo's
 * strict tsconfig. Each error is "line:col message".
 */
export function typeErrors(code: string, filePath: string): string[] {
  const configPath = join(REPO, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, REPO);
  const host = ts.createCompilerHost({ ...options, noEmit: true });
  const readSource = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    name === filePath ? ts.createSourceFile(name, code, language, true) : readSource(name, language, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === filePath || fileExists(name);
  const program = ts.createProgram({ rootNames: [filePath], options: { ...options, noEmit: true }, host });
  const source = program.getSourceFile(filePath)!;
  return ts.getPreEmitDiagnostics(program, source).map((d) => {
    const at = d.start === undefined ? undefined : source.getLineAndCharacterOfPosition(d.start);
    const where = at ? `${at.line + 1}:${at.character + 1}` : '?';
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}
