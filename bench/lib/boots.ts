/**
 * N concurrent boots: N separate processes load the same model into the same
 * cache directory at once, as dynos of one app sharing a disk would; the HTTP
 * source counts the body bytes it sent. One download means bytes = object size.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startHttpRangeServer } from '../../test/servers/http-range-server.js';
import { timed } from './stats.js';

export interface BootsFigure {
  processes: number;
  objectBytes: number;
  bytesServed: number;
  requests: number;
  wallMs: number;
}

function boot(script: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`boot exited ${code}: ${err.slice(-500)}`)),
    );
  });
}

export async function bootsFigure(opts: {
  servedDir: string;
  fileName: string;
  objectBytes: number;
  sha256: string;
  cacheDir: string;
  stowageDist: string;
  processes: number;
}): Promise<BootsFigure> {
  const server = await startHttpRangeServer(opts.servedDir);
  try {
    const env = {
      PATH: process.env.PATH,
      STOWAGE_DIST: opts.stowageDist,
      MODEL_URL: `${server.url}/${opts.fileName}`,
      MODEL_SHA256: opts.sha256,
      CACHE_DIR: opts.cacheDir,
    };
    const script = join(import.meta.dirname, 'boot-child.mjs');
    const { ms } = await timed(() =>
      Promise.all(Array.from({ length: opts.processes }, () => boot(script, env))),
    );
    return {
      processes: opts.processes,
      objectBytes: opts.objectBytes,
      bytesServed: server.stats.bytes,
      requests: server.stats.requests,
      wallMs: ms,
    };
  } finally {
    await server.stop();
  }
}
