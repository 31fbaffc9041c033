/**
 * One dyno: the Procfile's web command run in a slug copy with PORT set
 * and a clean environment, timed from launch to bound port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Dyno {
  port: number;
  url: string;
  child: ChildProcess;
  startedAt: number;
  /** Everything the process printed (stdout and stderr). */
  logs(): string;
  /** Resolves with the milliseconds from launch to the first accepted connection. */
  bound(): Promise<number>;
  /** SIGKILL (a crash) and wait for the exit. */
  kill(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The `web:` line of the app's Procfile. */
export async function webCommand(appDir: string): Promise<string> {
  const procfile = await readFile(join(appDir, 'Procfile'), 'utf8');
  const line = procfile.split('\n').find((l) => l.startsWith('web:'));
  if (!line) throw new Error(`no web: process in ${appDir}/Procfile`);
  return line.slice('web:'.length).trim();
}

/**
 * Starts the web process (the Procfile's, or `command`); `env` is the whole
 * environment besides PATH, HOME and PORT, as config vars are. DYNO is set
 * only for a Procfile boot (it marks the platform as ephemeral).
 */
export async function bootDyno(appDir: string, env: Record<string, string>, command?: string): Promise<Dyno> {
  const port = await freePort();
  const web = command ?? (await webCommand(appDir));
  const startedAt = performance.now();
  const child = spawn('/bin/sh', ['-c', `exec ${web}`], {
    cwd: appDir,
    env: {
      PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
      HOME: appDir,
      PORT: String(port),
      ...(command === undefined ? { DYNO: 'web.1' } : {}),
      NODE_ENV: 'production',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const bound = (async () => {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`the dyno exited before binding $PORT:\n${output}`);
      const ok = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port }, () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      });
      if (ok) return performance.now() - startedAt;
      await sleep(5);
    }
  })();
  bound.catch(() => undefined);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    child,
    startedAt,
    logs: () => output,
    bound: () => bound,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
