import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { DigestStream, normaliseSha256, sha256Of, verifyDigest } from '../../src/core/integrity.js';
import { expectCode, randomData, sha256 } from '../helpers/streams.js';

describe('DigestStream', () => {
  it('counts size and sha256 while passing bytes through unchanged', async () => {
    const data = randomData(1_000_003);
    const digest = new DigestStream();
    const out: Buffer[] = [];
    await pipeline(Readable.from([data.subarray(0, 10), data.subarray(10)]), digest, async (source) => {
      for await (const chunk of source) out.push(chunk as Buffer);
    });
    expect(Buffer.concat(out).equals(data)).toBe(true);
    expect(digest.digest()).toEqual({ size: data.length, sha256: sha256(data) });
  });
  it('fails with TOO_LARGE as soon as maxSize is passed', async () => {
    const digest = new DigestStream({ maxSize: 100, label: 'upload' });
    const err = await expectCode(
      pipeline(Readable.from([randomData(60), randomData(60)]), digest, async (s) => {
        for await (const _ of s) void _;
      }),
      'TOO_LARGE',
    );
    expect(err.message).toContain('upload');
    expect(digest.size).toBe(120);
  });
  it('refuses digest() before the end', async () => {
    await expectCode(async () => new DigestStream().digest(), 'INTERNAL');
  });
});

describe('verification', () => {
  it('accepts matching digests and names both sides on mismatch', async () => {
    const actual = { sha256: sha256Of('abc'), size: 3 };
    verifyDigest(actual, { sha256: actual.sha256.toUpperCase(), size: 3 });
    const err = await expectCode(
      async () => verifyDigest(actual, { sha256: sha256Of('abd') }, 'model.onnx'),
      'CHECKSUM_MISMATCH',
    );
    expect(err.message).toContain('model.onnx');
    expect(err.message).toContain(actual.sha256);
    expect(err.message).toContain(sha256Of('abd'));
    await expectCode(async () => verifyDigest(actual, { size: 4 }), 'CHECKSUM_MISMATCH');
  });
  it('validates hex digests', async () => {
    expect(normaliseSha256('A'.repeat(64))).toBe('a'.repeat(64));
    await expectCode(async () => normaliseSha256('xyz'), 'INVALID_ARGUMENT');
  });
});
