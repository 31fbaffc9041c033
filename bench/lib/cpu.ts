import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Linux's USER_HZ: /proc reports CPU times in these ticks (100 on every mainstream build). */
const TICK_MS = 10;

/** CPU time (user + system, all threads) a live process has used so far, ms; NaN once it is gone. */
export function processCpuMs(pid: number): number {
  try {
    // Fields after the command name, which may itself hold spaces: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return Number.NaN;
  }
}

/** CPU time the whole machine has spent busy (every core, user + kernel + interrupts), ms. */
export function machineBusyMs(): number {
  const cpu = /^cpu\s+(.*)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]?.split(/\s+/).map(Number) ?? [];
  // user nice system idle iowait irq softirq steal: everything but idle and iowait is work.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
  return (user + nice + system + irq + softirq + steal) * TICK_MS;
}

/**
 * Runs fn and returns what the whole machine spent on it: busy CPU ms and the
 * floor that implies, the wall time if that work were spread perfectly over
 * every core. Only meaningful on an otherwise idle machine.
 */
export async function machineCost<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; busyMs: number; floorMs: number }> {
  const before = machineBusyMs();
  const value = await fn();
  const busyMs = machineBusyMs() - before;
  return { value, busyMs, floorMs: busyMs / availableParallelism() };
}
