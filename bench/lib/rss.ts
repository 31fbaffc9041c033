import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** Peak resident set (VmHWM) of a live process in MiB; undefined once it has exited. */
export function peakRssMB(pid: number): number | undefined {
  return statusMB(pid, 'VmHWM');
}

/** Resident set now (VmRSS) of a live process in MiB; undefined once it has exited. */
export function currentRssMB(pid: number): number | undefined {
  return statusMB(pid, 'VmRSS');
}

function statusMB(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const kb = new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

export interface ChildRun {
  ms: number;
  /** Peak RSS of the command itself, MiB (from /usr/bin/time when present, else /proc sampling). */
  rssMB: number;
  /** CPU time of the command (user + system, its children included), ms; NaN without GNU time. */
  cpuMs: number;
  stdout: string;
}

/**
 * Runs a command to completion, timing it and taking its peak RSS and CPU time. Uses GNU
 * time's %M, %U and %S (exact, cover the whole life) when /usr/bin/time exists, else
 * samples /proc/<pid>/status every 20 ms.
 */
export function runMeasured(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  cwd?: string,
): Promise<ChildRun> {
  const gnuTime = existsSync('/usr/bin/time');
  const [bin, argv] = gnuTime
    ? ['/usr/bin/time', ['-f', 'bench-maxrss=%M bench-cpu=%U+%S', cmd, ...args]]
    : [cmd, args];
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(bin, argv, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sampled = 0;
    const timer = gnuTime
      ? undefined
      : setInterval(() => {
          sampled = Math.max(sampled, peakRssMB(child.pid ?? -1) ?? 0);
        }, 20);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearInterval(timer);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) return reject(new Error(`${cmd} exited ${code}: ${stderr.slice(-800)}`));
      const kb = Number(/bench-maxrss=(\d+)/.exec(stderr)?.[1] ?? 0);
      const cpu = /bench-cpu=([\d.]+)\+([\d.]+)/.exec(stderr);
      const cpuMs = cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : Number.NaN;
      resolve({ ms, rssMB: gnuTime ? kb / 1024 : sampled, cpuMs, stdout });
    });
  });
}
