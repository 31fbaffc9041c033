import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { formatBytes } from '../../src/util/bytes.js';
import { bytes, makeRepo, removeDir, run, tempDir } from './helpers.js';

describe('one unit system for bytes', () => {
  // 150_000 bytes: "150 kB" in SI units, "146.5 KiB" in binary ones.
  const SIZE = 150_000;
  let repo: string;
  let store: string;
  let cache: string;

  beforeAll(async () => {
    repo = await makeRepo({ 'models/tiny.onnx': bytes(SIZE, 'tiny'), 'index.js': 'run();\n' });
    store = await tempDir('store');
    cache = await tempDir('cache');
  });
  afterAll(async () => {
    await removeDir(repo);
    await removeDir(store);
    await removeDir(cache);
  });

  it('the same file size prints the same in analyze, migrate-assets, pull and the loader lines', async () => {
    const analyze = await run(repo, ['analyze']);
    const plan = await run(repo, ['migrate-assets', '--dry-run']);
    const migrate = await run(repo, ['migrate-assets', '--to', `file:${store}`]);
    await rm(join(repo, 'models/tiny.onnx'));
    const pull = await run(repo, ['pull'], { STOWAGE_CACHE_DIR: cache });
    for (const r of [analyze, plan, migrate, pull]) expect(r.code, r.err).toBe(EXIT.OK);

    expect(analyze.out).toMatch(/^ +150 kB {2}models\/tiny\.onnx$/m);
    expect(plan.out).toMatch(/^ {2}upload +150 kB {2}models\/tiny\.onnx -> /m);
    expect(migrate.out).toContain('Uploaded 1 file(s), 150 kB;');
    // The loader's own log lines, as the CLI shows them.
    expect(pull.err).toMatch(/^\[stowage\] models\/tiny\.onnx: downloading 150 kB from /m);
    expect(pull.err).toMatch(/^\[stowage\] models\/tiny\.onnx: ready, 150 kB in /m);
    expect(pull.out).toContain('Restored 1 file(s), 150 kB;');
    const all = [analyze, plan, migrate, pull].map((r) => r.out + r.err).join('\n');
    expect(all).not.toMatch(/146\.\d|KiB|\bKB\b|MiB/);
  });

  it('formatBytes: SI units, one decimal under 100, never "1000"', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(523.4)).toBe('523 B');
    expect(formatBytes(1000)).toBe('1.0 kB');
    expect(formatBytes(1536)).toBe('1.5 kB');
    expect(formatBytes(99_960)).toBe('100 kB');
    expect(formatBytes(999_600)).toBe('1.0 MB');
    expect(formatBytes(104_857_600)).toBe('105 MB');
    expect(formatBytes(1_403_000_000)).toBe('1.4 GB');
  });
});
