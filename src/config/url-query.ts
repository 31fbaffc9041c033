import { StowageError } from '../core/errors.js';

/**
 * The query of a storage URL, checked against the parameters its scheme
 * knows. A typo (`regoin=`) or a name in the wrong case (`forcepathstyle=`)
 * is refused with the nearest known name, never silently dropped: a dropped
 * region or endpoint sends the app to another store. A parameter given twice
 * is refused too. Values are never echoed (an endpoint may hold a password).
 */
export function readQuery(
  params: URLSearchParams,
  known: readonly string[],
  scheme: string,
): Map<string, string> {
  const values = new Map<string, string>();
  for (const [name, value] of params) {
    if (!known.includes(name)) {
      const near = nearestName(name, known);
      throw new StowageError(
        'INVALID_ARGUMENT',
        `${scheme} URL: unknown parameter "${name.slice(0, 40)}"${near ? ` (did you mean ${near}?)` : ''}; known: ${known.join(', ')}`,
      );
    }
    if (values.has(name)) {
      throw new StowageError('INVALID_ARGUMENT', `${scheme} URL: parameter "${name}" is given twice`);
    }
    values.set(name, value);
  }
  return values;
}

/** The known name closest to `name` (edit distance, ignoring case), if close enough to be a typo. */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  const wanted = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = editDistance(wanted, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(wanted.length / 3)) ? best : undefined;
}

/** Levenshtein distance, counting a swap of two neighbours as one edit (regoin → region). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
