import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { type Bins, buildBins } from './bins.js';
import { bytes, makeRepo, removeDir, run, tempDir, writeFiles } from './helpers.js';

/** The bins as a person runs them: on a real terminal (tmux, 120x30). */

const execFileAsync = promisify(execFile);
let bins: Bins;

beforeAll(async () => {
  bins = await buildBins();
});
afterAll(() => bins.remove());

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/**
 * Runs `command` in a detached tmux pane of 120x30 and returns the screen
 * with its scrollback, wrapped lines joined (what a person sees and copies).
 */
async function onTerminal(command: string): Promise<string[]> {
  const socket = `stowage-test-${process.pid}`;
  const tmux = (...args: string[]) => execFileAsync('tmux', ['-L', socket, '-f', '/dev/null', ...args]);
  const script = `${command}; echo "[exit $?]"; tmux -L ${socket} wait-for -S finished; sleep 600`;
  await tmux('new-session', '-d', '-x', '120', '-y', '30', '-s', 'cli', script);
  try {
    await tmux('wait-for', 'finished');
    const { stdout } = await tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'cli');
    return stdout.split('\n').map((line) => line.trimEnd());
  } finally {
    await tmux('kill-server').catch(() => undefined);
  }
}

describe('stowage pull on a terminal', () => {
  const files = {
    'models/encoder.onnx': bytes(1_500_000, 'encoder'),
    'models/decoder.onnx': bytes(2_500_000, 'decoder'),
    'public/hero.png': bytes(300_000, 'hero'),
    'index.js': 'run();\n',
  };
  let repo: string;
  let store: string;
  let cache: string;

  beforeAll(async () => {
    repo = await makeRepo(files);
    store = await tempDir('store');
    cache = await tempDir('cache');
    expect((await run(repo, ['migrate-assets', '--to', `file:${store}`])).code).toBe(EXIT.OK);
    await rm(join(repo, 'models'), { recursive: true });
    await rm(join(repo, 'public'), { recursive: true });
  });
  afterAll(async () => {
    await removeDir(repo);
    await removeDir(store);
    await removeDir(cache);
  });

  it('writes every log line whole, on its own line above the bar, and the summary on clean lines', async () => {
    const env = `env -u CI -u NO_COLOR STOWAGE_CACHE_DIR=${shellQuote(cache)}`;
    const screen = await onTerminal(
      `clear; cd ${shellQuote(repo)} && ${env} ${shellQuote(process.execPath)} ${shellQuote(bins.stowage)} pull`,
    );
    const text = screen.join('\n');
    expect(text).toContain('[exit 0]');
    for (const path of ['models/encoder.onnx', 'models/decoder.onnx', 'public/hero.png']) {
      // Each loader line starts a screen line and ends where the loader ended it.
      expect(
        screen.filter((l) => new RegExp(`^\\[stowage\\] ${path}: downloading \\S+ \\S+ from \\S+$`).test(l)),
        text,
      ).toHaveLength(1);
      expect(
        screen.filter((l) => new RegExp(`^\\[stowage\\] ${path}: ready, .*, sha256 verified$`).test(l)),
        text,
      ).toHaveLength(1);
    }
    expect(
      screen.filter((l) => /^\[stowage\] artifacts ready: 3 file\(s\) in .*already in place\)$/.test(l)),
      text,
    ).toHaveLength(1);
    // No line carries two things: a bar never shares a line with a log line or the summary.
    for (const line of screen) {
      if (line.includes('[stowage]')) expect(line.startsWith('[stowage]'), text).toBe(true);
      expect((line.match(/\[stowage\]|pulling|Storage:|Restored /g) ?? []).length, text).toBeLessThanOrEqual(
        1,
      );
    }
    // The finished bar, then the summary, then the shell: in that order, each on its own line.
    const last = screen.findLastIndex((l) => l.startsWith('pulling'));
    expect(screen[last], text).toMatch(/^pulling .* 100% \| 3\/3 \| 4\.3 MB\/4\.3 MB$/);
    expect(screen[last + 1], text).toBe(`Storage: file:${store}`);
    expect(screen[last + 2], text).toBe('Restored 3 file(s), 4.3 MB; 0 already present and verified.');
    expect(screen[last + 3], text).toBe('[exit 0]');
    const firstLog = screen.findIndex((l) => l.startsWith('[stowage]'));
    expect(firstLog, text).toBeLessThan(last);
  });
});

describe('stowage mirror on a terminal', () => {
  let app: string;
  let source: string;
  let store: string;

  beforeAll(async () => {
    app = await tempDir('mirror-app');
    source = await tempDir('mirror-source');
    store = await tempDir('mirror-store');
    await writeFiles(source, { 'model.onnx': bytes(4_000_000, 'terminal model') });
  });
  afterAll(async () => {
    await removeDir(app);
    await removeDir(source);
    await removeDir(store);
  });

  it('shows a bar while copying, then the summary and the next step on clean lines', async () => {
    const screen = await onTerminal(
      `clear; cd ${shellQuote(app)} && env -u CI -u NO_COLOR ${shellQuote(process.execPath)} ${shellQuote(bins.stowage)} mirror ${shellQuote(`file:${join(source, 'model.onnx')}`)} --to ${shellQuote(`file:${store}`)}`,
    );
    const text = screen.join('\n');
    expect(text).toContain('[exit 0]');
    const last = screen.findLastIndex((l) => l.startsWith('mirroring'));
    expect(screen[last], text).toMatch(/^mirroring .* 100% \| 1\/1 \| 4\.0 MB\/4\.0 MB$/);
    expect(screen[last + 1], text).toBe(`Target: file:${store}`);
    expect(screen[last + 2], text).toMatch(
      /^ {2}copied +4\.0 MB {2}model\.onnx <- file:\S+ -> sha256\/\S+\.onnx$/,
    );
    expect(screen[last + 3], text).toBe(
      'Copied 1 file(s), 4.0 MB; 0 already in the target, verified by size and sha256.',
    );
    expect(screen[last + 4], text).toBe(`Next: commit stowage.lock.json; boots now read file:${store}.`);
    expect(screen[last + 5], text).toBe('[exit 0]');
  });
});
