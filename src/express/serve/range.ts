export type RangeDecision =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' };

/** More specs than this is abuse, not a media player: answer the whole object. */
const MAX_SPECS = 100;

/**
 * Parses a Range header against an object size (RFC 9110 §14.1.2).
 * Malformed headers and other units are ignored (full response).
 * Overlapping or adjacent ranges are merged; if several ranges remain,
 * the answer is the whole object with 200 (servers may ignore Range, and
 * stowage does not build multipart/byteranges bodies).
 */
export function decideRange(header: string | undefined, size: number): RangeDecision {
  if (!header) return { kind: 'full' };
  const match = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!match) return { kind: 'full' };
  const specs = match[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (specs.length === 0 || specs.length > MAX_SPECS) return { kind: 'full' };
  const ranges: Array<{ start: number; end: number }> = [];
  for (const spec of specs) {
    const parsed = /^(\d*)\s*-\s*(\d*)$/.exec(spec);
    if (!parsed) return { kind: 'full' };
    const [, first = '', last = ''] = parsed;
    if (first === '' && last === '') return { kind: 'full' };
    if (first === '') {
      const suffix = Number(last);
      if (suffix > 0 && size > 0) ranges.push({ start: Math.max(0, size - suffix), end: size - 1 });
      continue;
    }
    const start = Number(first);
    const end = last === '' ? size - 1 : Number(last);
    if (last !== '' && end < start) return { kind: 'full' };
    if (start < size) ranges.push({ start, end: Math.min(end, size - 1) });
  }
  if (ranges.length === 0) return { kind: 'unsatisfiable' };
  const merged = mergeRanges(ranges);
  if (merged.length > 1) return { kind: 'full' };
  const only = merged[0]!;
  // Even "bytes=0-" gets a 206: media players probe with it and expect one.
  return { kind: 'partial', start: only.start, end: only.end };
}

function mergeRanges(ranges: Array<{ start: number; end: number }>): Array<{ start: number; end: number }> {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out = [{ ...sorted[0]! }];
  for (const range of sorted.slice(1)) {
    const last = out[out.length - 1]!;
    if (range.start <= last.end + 1) last.end = Math.max(last.end, range.end);
    else out.push({ ...range });
  }
  return out;
}
