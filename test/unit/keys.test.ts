import { describe, expect, it } from 'vitest';
import { encodeKeyPath, joinKey, normalisePrefix, validateKey, validatePrefix } from '../../src/core/keys.js';
import { HOSTILE_KEYS, ODD_LEGAL_KEYS } from '../../src/testing/hostile-keys.js';
import { expectCode } from '../helpers/streams.js';

describe('validateKey', () => {
  it.each(HOSTILE_KEYS.map((k) => [JSON.stringify(k)?.slice(0, 30) ?? String(k), k]))(
    'rejects %s',
    async (_l, key) => {
      await expectCode(async () => validateKey(key), 'INVALID_KEY');
    },
  );
  it.each(ODD_LEGAL_KEYS.map((k) => [k]))('accepts %s unchanged', (key) => {
    expect(validateKey(key)).toBe(key);
  });
  it('normalises to NFC', () => {
    expect(validateKey('cafe\u0301')).toBe('caf\u00e9');
  });
  it('accepts exactly 1024 bytes and refuses 1025', async () => {
    expect(validateKey('a'.repeat(1024))).toHaveLength(1024);
    await expectCode(async () => validateKey('a'.repeat(1025)), 'INVALID_KEY');
  });
  it('names the problem and the fix in the message', async () => {
    const err = await expectCode(async () => validateKey('a/../b'), 'INVALID_KEY');
    expect(err.message).toMatch(/"\.\." segment/);
    expect(err.status).toBe(400);
    expect(err.retryable).toBe(false);
  });
});

describe('prefixes and paths', () => {
  it('validates list prefixes, allowing a trailing slash and empty', async () => {
    expect(validatePrefix(undefined)).toBe('');
    expect(validatePrefix('a/b/')).toBe('a/b/');
    expect(validatePrefix('a/b')).toBe('a/b');
    await expectCode(async () => validatePrefix('../'), 'INVALID_KEY');
    await expectCode(async () => validatePrefix(5), 'INVALID_KEY');
  });
  it('normalises configured prefixes', () => {
    expect(normalisePrefix('/a/b/')).toBe('a/b');
    expect(normalisePrefix('')).toBe('');
    expect(() => normalisePrefix('/a/../b')).toThrow(/segment/);
  });
  it('joins and encodes', () => {
    expect(joinKey('', 'k')).toBe('k');
    expect(joinKey('p', 'k')).toBe('p/k');
    expect(joinKey('p/', 'k')).toBe('p/k');
    expect(encodeKeyPath('a b/c?d#e')).toBe('a%20b/c%3Fd%23e');
  });
});
