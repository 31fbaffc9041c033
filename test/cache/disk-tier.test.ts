import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ObjectInfo } from '../../src/core/types.js';
import { DiskTier, defaultServeCacheDir, SingleFlight } from '../../src/express/serve/cache/index.js';
import { setLogger } from '../../src/util/log.js';
import { collect, expectCode, failingStream } from '../helpers/streams.js';

const info = (key: string, size: number, etag = `"${key}"`): ObjectInfo => ({
  key,
  size,
  etag,
  metadata: {},
});

describe('DiskTier', () => {
  let scratch: string;
  let tier: DiskTier;

  beforeEach(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'stowage-disktier-'));
    tier = new DiskTier({ dir: scratch, maxBytes: 300, maxObjectBytes: 200 });
  });

  afterEach(async () => {
    await tier.close();
    await rm(scratch, { recursive: true, force: true });
  });

  const put = (key: string, size: number, fill = 0x61) =>
    tier.store(key, Readable.from([Buffer.alloc(size, fill)]), info(key, size), 0);

  it('stores, reads back and evicts the least recently used first', async () => {
    await put('a', 100, 0x61);
    await put('b', 100, 0x62);
    await put('c', 100, 0x63);
    expect(tier.get('a')).toBeDefined(); // a is now the most recently used
    await put('d', 100, 0x64);
    expect(tier.get('b')).toBeUndefined();
    expect(tier.get('a')).toBeDefined();
    expect(tier.bytes).toBe(300);
    const handle = await tier.open(tier.get('d')!);
    expect((await collect(handle!.createReadStream())).equals(Buffer.alloc(100, 0x64))).toBe(true);
    const files = await readdir(await tier.dir());
    expect(files.length).toBe(3);
  });

  it('refuses objects over maxObjectBytes', async () => {
    expect(tier.fits(201)).toBe(false);
    expect(await put('big', 201)).toBeUndefined();
    expect(tier.bytes).toBe(0);
  });

  it('a failing body leaves no temp file and no entry', async () => {
    await expect(tier.store('x', failingStream(50, 10), info('x', 150), 0)).rejects.toThrow(/simulated/);
    expect(tier.get('x')).toBeUndefined();
    expect(tier.bytes).toBe(0);
    expect(await readdir(await tier.dir())).toEqual([]);
  });

  it('a body longer or shorter than announced is refused (UNAVAILABLE), nothing kept', async () => {
    await expectCode(tier.store('x', Readable.from([Buffer.alloc(120)]), info('x', 100), 0), 'UNAVAILABLE');
    await expectCode(tier.store('y', Readable.from([Buffer.alloc(80)]), info('y', 100), 0), 'UNAVAILABLE');
    expect(tier.bytes).toBe(0);
    expect(await readdir(await tier.dir())).toEqual([]);
  });

  it('a new version replaces the old file; a reader of the old file keeps its bytes', async () => {
    await put('k', 100, 0x61);
    const old = await tier.open(tier.get('k')!);
    await tier.store('k', Readable.from([Buffer.alloc(50, 0x62)]), info('k', 50, '"v2"'), 0);
    expect((await collect(old!.createReadStream())).equals(Buffer.alloc(100, 0x61))).toBe(true);
    const entry = tier.get('k')!;
    expect(entry.info.etag).toBe('"v2"');
    expect((await readFile(entry.path)).equals(Buffer.alloc(50, 0x62))).toBe(true);
    expect(tier.bytes).toBe(50);
  });

  it('open() after eviction answers undefined (the caller falls back to the origin)', async () => {
    await put('a', 200);
    const entry = tier.get('a')!;
    await put('b', 200);
    expect(await tier.open(entry)).toBeUndefined();
  });

  it('close() removes the tier directory', async () => {
    await put('a', 10);
    const dir = await tier.dir();
    await tier.close();
    expect(await readdir(scratch)).not.toContain(dir.split('/').pop());
  });

  it('removes tier directories of dead processes, keeps live ones', async () => {
    const dead = join(scratch, 'serve-999999999-old');
    const live = join(scratch, `serve-${process.pid}-other`);
    await mkdir(dead);
    await writeFile(join(dead, 'x'), 'stale');
    await mkdir(live);
    const own = await tier.dir();
    const names = await readdir(scratch);
    expect(names).not.toContain('serve-999999999-old');
    expect(names).toContain(`serve-${process.pid}-other`);
    expect(names).toContain(basename(own));
  });

  it('removes tier directories nobody has touched for long, even under a live pid (containers: every pid is 1)', async () => {
    const lastLife = join(scratch, `serve-${process.pid}-lastboot`);
    await mkdir(lastLife);
    await writeFile(join(lastLife, 'x'), 'from the previous container');
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(lastLife, hourAgo, hourAgo);
    const neighbour = join(scratch, `serve-${process.pid}-neighbour`);
    await mkdir(neighbour); // another container on the same volume, alive: touched recently
    const own = await tier.dir();
    const names = await readdir(scratch);
    expect(names).not.toContain(`serve-${process.pid}-lastboot`);
    expect(names).toContain(`serve-${process.pid}-neighbour`);
    expect(names).toContain(basename(own));
  });

  it('a vanished cache directory degrades to "not cached" and recovers', async () => {
    setLogger({ info: () => undefined, warn: () => undefined });
    try {
      await put('a', 10);
      await rm(await tier.dir(), { recursive: true, force: true });
      expect(await put('b', 10)).toBeUndefined();
      expect(tier.bytes).toBe(10); // only a, whose file is gone; open() will say so
      expect(await tier.open(tier.get('a')!)).toBeUndefined();
      expect(await put('c', 10)).toBeDefined();
    } finally {
      setLogger({ info: (m) => console.log(m), warn: (m) => console.warn(m) });
    }
  });

  it('defaults to STOWAGE_CACHE_DIR', () => {
    const before = process.env.STOWAGE_CACHE_DIR;
    process.env.STOWAGE_CACHE_DIR = '/var/cache/somewhere';
    try {
      expect(defaultServeCacheDir()).toBe('/var/cache/somewhere');
    } finally {
      if (before === undefined) delete process.env.STOWAGE_CACHE_DIR;
      else process.env.STOWAGE_CACHE_DIR = before;
    }
    expect(defaultServeCacheDir()).toBe(before || join(tmpdir(), 'stowage-cache'));
  });
});

describe('SingleFlight', () => {
  it('shares one run among concurrent callers, then starts afresh', async () => {
    const flight = new SingleFlight<number>();
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const work = async () => {
      runs++;
      await gate;
      return runs;
    };
    const all = Promise.all([flight.run('k', work), flight.run('k', work), flight.run('k', work)]);
    expect(flight.size).toBe(1);
    release();
    expect(await all).toEqual([1, 1, 1]);
    expect(flight.size).toBe(0);
    expect(await flight.run('k', work)).toBe(2);
  });

  it('shares a failure too, and does not remember it', async () => {
    const flight = new SingleFlight<number>();
    let runs = 0;
    const failing = async () => {
      runs++;
      throw new Error('nope');
    };
    const results = await Promise.allSettled([flight.run('k', failing), flight.run('k', failing)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(runs).toBe(1);
    await expect(flight.run('k', async () => 7)).resolves.toBe(7);
  });
});
