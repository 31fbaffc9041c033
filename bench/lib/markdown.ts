/** A markdown table; cells are already formatted. */
export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export const fmtMs = (ms: number | undefined): string =>
  ms === undefined || Number.isNaN(ms)
    ? '—'
    : ms >= 1000
      ? `${(ms / 1000).toFixed(2)} s`
      : `${ms.toFixed(1)} ms`;

export const fmtRate = (mb: number, ms: number | undefined): string =>
  ms === undefined || Number.isNaN(ms) ? '—' : `${(mb / (ms / 1000)).toFixed(0)} MB/s`;

export const fmtMB = (mb: number | undefined): string =>
  mb === undefined || Number.isNaN(mb) ? '—' : `${mb.toFixed(0)} MiB`;

/** "1.23×" or "—" when a side is missing. */
export const fmtRatio = (x: number | undefined): string =>
  x === undefined || !Number.isFinite(x) ? '—' : `${x.toFixed(2)}×`;
