import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bins, buildBins } from './bins.js';
import { makeRepo, removeDir } from './helpers.js';

/** The bins writing into pipes whose reader is gone (`stowage … | head -1`), as Unix tools do: quietly, status 0. */

let bins: Bins;

beforeAll(async () => {
  bins = await buildBins();
});
afterAll(() => bins.remove());

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

describe('closed pipes', () => {
  let repo: string;

  beforeAll(async () => {
    // Enough files that the dry-run listing overflows a pipe buffer (64 kB).
    const files: Record<string, Uint8Array | string> = { 'index.js': 'run();\n' };
    for (let i = 0; i < 1500; i++) files[`public/img/picture-${String(i).padStart(4, '0')}.png`] = `png ${i}`;
    repo = await makeRepo(files);
  });
  afterAll(() => removeDir(repo));

  function bash(script: string): Promise<{ code: number | null; err: string }> {
    const child = spawn('bash', ['-o', 'pipefail', '-c', script], {
      cwd: repo,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    return new Promise((done) => child.on('close', (code) => done({ code, err })));
  }

  const node = () => `${shellQuote(process.execPath)} ${shellQuote(bins.stowage)}`;

  it('`stowage … | head -1` ends quietly with status 0, stdout and stderr alike', async () => {
    for (const command of [
      `${node()} migrate-assets --dry-run | head -1`,
      `${node()} analyze --top 2000 | head -1`,
      `${node()} analyze 2>&1 >/dev/null | head -1`,
    ]) {
      const r = await bash(command);
      expect(r.err, command).not.toMatch(/EPIPE|Error|\n\s+at /);
      expect(r.code, `${command}\n${r.err}`).toBe(0);
    }
  });

  it('a reader gone before the first line: status 0, no stack trace', async () => {
    for (const closed of ['stdout', 'stderr'] as const) {
      // analyze writes progress lines on stderr and results on stdout, on every run.
      const child = spawn(process.execPath, [bins.stowage, 'analyze'], {
        cwd: repo,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child[closed].destroy();
      const open = closed === 'stdout' ? child.stderr : child.stdout;
      let text = '';
      open.on('data', (d: Buffer) => (text += d.toString()));
      const code = await new Promise((done) => child.on('close', done));
      if (closed === 'stdout') expect(text).not.toMatch(/EPIPE|\n\s+at /);
      expect(code, `${closed} closed:\n${text.slice(-2000)}`).toBe(0);
    }
  });
});
