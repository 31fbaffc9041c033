import { StowageError } from '../core/errors.js';

export interface IntegerBounds {
  /** Smallest accepted value; default 0. */
  min?: number;
  /** Largest accepted value; default none (Number.MAX_SAFE_INTEGER). */
  max?: number;
  /** Said after the bounds in the error, e.g. "for S3" or "seconds". */
  note?: string;
}

/**
 * The one integer-option check: undefined stays undefined (the caller picks
 * the default); anything but a safe integer within the bounds is
 * INVALID_ARGUMENT naming the option, its bounds and what was given.
 */
export function checkInteger(value: unknown, what: string, bounds: IntegerBounds = {}): number | undefined {
  if (value === undefined) return undefined;
  const { min = 0, max } = bounds;
  if (
    typeof value === 'number' &&
    Number.isSafeInteger(value) &&
    value >= min &&
    (max === undefined || value <= max)
  )
    return value;
  const range =
    max !== undefined
      ? `an integer from ${min} to ${max}`
      : min === 0
        ? 'a non-negative integer'
        : min === 1
          ? 'a positive integer'
          : `an integer of at least ${min}`;
  const note = bounds.note ? ` ${bounds.note}` : '';
  throw new StowageError('INVALID_ARGUMENT', `${what} must be ${range}${note}, got ${describe(value)}`);
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
