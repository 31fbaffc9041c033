import { describe, expect, it } from 'vitest';
import { checkInteger } from '../../../src/adapter-kit/integer-option.js';
import { StowageError } from '../../../src/core/errors.js';

const refusal = (run: () => unknown): string => {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(StowageError);
    expect((err as StowageError).code).toBe('INVALID_ARGUMENT');
    return (err as StowageError).message;
  }
  throw new Error('expected a refusal');
};

describe('checkInteger, the one integer-option check', () => {
  it('passes undefined through and accepts safe integers within the bounds', () => {
    expect(checkInteger(undefined, 'options.n')).toBeUndefined();
    expect(checkInteger(0, 'options.n')).toBe(0);
    expect(checkInteger(1000, 'options.n', { min: 1, max: 1000 })).toBe(1000);
  });
  it('refuses anything else, naming the option, its bounds and the value', () => {
    expect(refusal(() => checkInteger(-1, 'options.n'))).toBe(
      'options.n must be a non-negative integer, got -1',
    );
    expect(refusal(() => checkInteger(0, 'options.n', { min: 1 }))).toBe(
      'options.n must be a positive integer, got 0',
    );
    expect(refusal(() => checkInteger(1001, 'options.pageSize', { min: 1, max: 1000, note: 'for S3' }))).toBe(
      'options.pageSize must be an integer from 1 to 1000 for S3, got 1001',
    );
    expect(refusal(() => checkInteger('5', 'options.n'))).toContain('got "5"');
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, null, true])
      expect(refusal(() => checkInteger(bad, 'options.n'))).toContain('options.n');
  });
});
