/**
 * The campaign's one knob. CHAOS_SCALE=full (set by vitest.chaos.config.ts,
 * `npm run test:chaos`) runs the counts; anything else runs a short
 * slice inside the normal test run.
 */
export const FULL = process.env.CHAOS_SCALE === 'full';

/** `full` trials under CHAOS_SCALE=full, `slice` otherwise. */
export function scaled(full: number, slice: number): number {
  return FULL ? full : slice;
}

/** Per-test timeout: the full campaign is long on a shared 2-core machine. */
export const TRIAL_TIMEOUT = FULL ? 1_800_000 : 120_000;

/** One line per area, printed and kept for RELIABILITY.md. */
export interface Tally {
  area: string;
  trials: number;
  failures: number;
  leftovers: number;
  note?: string;
}

export function report(t: Tally): void {
  const extra = t.note ? ` (${t.note})` : '';
  console.log(
    `[chaos] ${t.area}: trials=${t.trials} failures=${t.failures} leftovers=${t.leftovers} scale=${FULL ? 'full' : 'slice'}${extra}`,
  );
}

/** A small seeded PRNG (mulberry32): a failing trial can be replayed with CHAOS_SEED. */
export function rng(seed = Number(process.env.CHAOS_SEED ?? Date.now() % 2 ** 31)): {
  seed: number;
  next(): number;
  int(below: number): number;
  pick<T>(items: readonly T[]): T;
} {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return {
    seed,
    next,
    int: (below) => Math.floor(next() * below),
    pick: (items) => items[Math.floor(next() * items.length)] as (typeof items)[number],
  };
}
