const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/**
 * The one way stowage prints a byte count, in the CLI and in log lines alike:
 * SI units (powers of 1000, like `du --si`), one decimal under 100.
 * 999 → "999 B", 1536 → "1.5 kB", 104_857_600 → "105 MB".
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return `${bytes} B`;
  if (bytes < 999.5) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit = 0;
  // 999.5 and up would print as "1000": the next unit reads better.
  while (value >= 999.5 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 99.95 ? value.toFixed(0) : value.toFixed(1)} ${UNITS[unit]}`;
}

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$/i;
const FACTORS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  ki: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  mi: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
  gi: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  tib: 1024 ** 4,
  ti: 1024 ** 4,
};

/** "1MB", "500k", "2MiB", "1048576" → bytes; undefined when unreadable. */
export function parseSize(text: string): number | undefined {
  const match = SIZE.exec(text);
  if (!match) return undefined;
  const factor = FACTORS[(match[2] ?? '').toLowerCase()];
  if (factor === undefined) return undefined;
  const bytes = Math.round(Number(match[1]) * factor);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
