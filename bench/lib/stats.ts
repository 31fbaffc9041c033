/** Median of a list (the middle value; the upper middle for even lengths). NaN when empty. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** How many times faster A is than B given their times (B / A): > 1 means A wins. */
export function speedup(aMs: number, bMs: number): number {
  return bMs / aMs;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

/**
 * Runs every side once per round, in turn (A, B, C, A, B, C, …), so drift on a
 * shared machine hits each side alike. Returns the samples per side.
 */
export async function alternate<S>(
  rounds: number,
  sides: Record<string, () => Promise<S>>,
): Promise<Record<string, S[]>> {
  const out: Record<string, S[]> = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, fn] of Object.entries(sides)) out[name]?.push(await fn());
  }
  return out;
}

export const mbps = (mb: number, ms: number): number => mb / (ms / 1000);
