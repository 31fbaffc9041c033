/**
 * Peak RSS of each side of the loader cold figure, each as its own process
 * (bench/loader runs stowage inside vitest, where RSS is not its own):
 * stowage's loadModel in a plain node process, aria2c -x8 and curl, all from
 * the same HTTP source. Also times them: one more alternating sample each.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startHttpRangeServer } from '../../test/servers/http-range-server.js';
import { which } from './peers.js';
import { type ChildRun, runMeasured } from './rss.js';

export type LoaderRss = Record<'stowage' | 'aria2c' | 'curl', ChildRun | undefined>;

export async function loaderRssFigure(opts: {
  servedDir: string;
  fileName: string;
  sha256: string;
  workDir: string;
  stowageDist: string;
}): Promise<LoaderRss> {
  const server = await startHttpRangeServer(opts.servedDir);
  const url = `${server.url}/${opts.fileName}`;
  const out = join(opts.workDir, 'rss-out');
  try {
    await rm(out, { recursive: true, force: true });
    await mkdir(out, { recursive: true });
    const stowage = await runMeasured(process.execPath, [join(import.meta.dirname, 'boot-child.mjs')], {
      PATH: process.env.PATH,
      STOWAGE_DIST: opts.stowageDist,
      MODEL_URL: url,
      MODEL_SHA256: opts.sha256,
      CACHE_DIR: join(out, 'cache'),
    });
    const aria2c = which('aria2c')
      ? await runMeasured('aria2c', [
          '-x8',
          '-s8',
          '-k1M',
          '-q',
          '--allow-overwrite=true',
          `--checksum=sha-256=${opts.sha256}`,
          '-d',
          out,
          '-o',
          'aria.bin',
          url,
        ])
      : undefined;
    const curl = which('curl')
      ? await runMeasured('curl', ['-s', '-o', join(out, 'curl.bin'), url])
      : undefined;
    return { stowage, aria2c, curl };
  } finally {
    await server.stop();
    await rm(out, { recursive: true, force: true });
  }
}
