import { describe, expect, it } from 'vitest';
import { isStowageError, StowageError, statusOf } from '../../src/core/errors.js';
import { redact, redactUrl, registerSecret } from '../../src/util/redact.js';

describe('StowageError', () => {
  it('carries a stable code, status, retryable flag and cause', () => {
    const cause = new Error('socket hang up');
    const err = new StowageError('UNAVAILABLE', 'backend down', { cause, key: 'k' });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('StowageError');
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.status).toBe(503);
    expect(err.retryable).toBe(true);
    expect(err.cause).toBe(cause);
    expect(err.key).toBe('k');
    expect(isStowageError(err, 'UNAVAILABLE')).toBe(true);
    expect(isStowageError(err, 'NOT_FOUND')).toBe(false);
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      code: 'UNAVAILABLE',
      message: 'backend down',
      status: 503,
      retryable: true,
    });
  });
  it('maps every code to an HTTP status', () => {
    expect(statusOf('NOT_FOUND')).toBe(404);
    expect(statusOf('TOO_LARGE')).toBe(413);
    expect(statusOf('UNSUPPORTED_TYPE')).toBe(415);
    expect(statusOf('INVALID_RANGE')).toBe(416);
    expect(statusOf('ACCESS_DENIED')).toBe(403);
    expect(statusOf('NOT_SUPPORTED')).toBe(501);
  });
});

describe('secrets never leak', () => {
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  registerSecret(secret);

  it('masks registered secrets in messages, stacks and causes', () => {
    const cause = new Error(`signature with ${secret} failed`);
    const err = new StowageError('ACCESS_DENIED', `denied for ${secret}`, { cause });
    for (const text of [
      err.message,
      err.stack ?? '',
      (err.cause as Error).message,
      (err.cause as Error).stack ?? '',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(err.message).toContain('***');
  });
  it('masks URL passwords and signature parameters even when unregistered', () => {
    expect(redactUrl('s3://AKIA123:topsecretvalue@bucket/prefix')).toBe('s3://AKIA123:***@bucket/prefix');
    expect(
      redact('https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F2026&X-Amz-Signature=abcdef0123&x=1'),
    ).toBe('https://b.s3.amazonaws.com/k?X-Amz-Credential=***&X-Amz-Signature=***&x=1');
    expect(redact('authorization: AWS4-HMAC-SHA256 Credential=abc')).toBe('authorization: ***');
  });
  it('masks the URL-encoded form of a registered secret, in either case of hex digits', () => {
    expect(redact(`x=${encodeURIComponent(secret)}`)).toBe('x=***');
    const lowerHex = encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase());
    expect(lowerHex).toContain('%2f');
    expect(redact(`x=${lowerHex}`)).toBe('x=***');
  });
  it('masks a password holding "@" whole, registered or not', () => {
    registerSecret('p@ss123word');
    expect(redact('s3://KEY:p@ss123word@bucket/prefix')).toBe('s3://KEY:***@bucket/prefix');
    expect(redact('s3://KEY:un@registered@bucket/x and mail@example.com')).toBe(
      's3://KEY:***@bucket/x and mail@example.com',
    );
  });
});
