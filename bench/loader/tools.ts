import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export function which(tool: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err.slice(-500)}`)),
    );
  });
}

/** Writes `mb` MiB of random data (fsynced) and returns its sha256 and the write rate. */
export async function makeFile(path: string, mb: number): Promise<{ sha256: string; writeMBps: number }> {
  const hash = createHash('sha256');
  const chunk = 16;
  const { ms } = await timed(async () => {
    const handle = await open(path, 'w');
    try {
      for (let done = 0; done < mb; done += chunk) {
        const data = randomBytes(Math.min(chunk, mb - done) * 1024 * 1024);
        hash.update(data);
        await handle.write(data);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
  return { sha256: hash.digest('hex'), writeMBps: mb / (ms / 1000) };
}

/** In-memory sha256 throughput of this machine, MB/s. */
export function sha256MBps(mb = 512): number {
  const data = randomBytes(64 * 1024 * 1024);
  const hash = createHash('sha256');
  const start = process.hrtime.bigint();
  for (let done = 0; done < mb; done += 64) hash.update(data);
  hash.digest();
  return mb / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** Starts nginx (Debian) serving `root` on loopback; undefined when nginx is not installed. */
export async function startNginx(
  root: string,
  work: string,
): Promise<{ url: string; stop(): void } | undefined> {
  const bin = which('nginx') ?? (which('/usr/sbin/nginx') ? '/usr/sbin/nginx' : undefined);
  if (!bin) return undefined;
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const conf = join(work, 'nginx.conf');
  await writeFile(
    conf,
    `daemon off; worker_processes 1; pid ${work}/nginx.pid; error_log ${work}/error.log;
events { worker_connections 256; }
http { access_log off; sendfile on; tcp_nopush on; client_body_temp_path ${work}; proxy_temp_path ${work};
  fastcgi_temp_path ${work}; uwsgi_temp_path ${work}; scgi_temp_path ${work};
  server { listen 127.0.0.1:${port}; root ${root}; } }`,
  );
  const child = spawn(bin, ['-c', conf, '-p', work], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}
