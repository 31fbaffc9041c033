import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type Manifest,
  mergeManifests,
  parseManifest,
  readManifest,
  serializeManifest,
  writeManifest,
} from '../../src/loader/manifest.js';
import { expectCode, sha256 } from '../helpers/streams.js';

const entry = (path: string, body: string) => ({
  path,
  key: `sha256/${sha256(body)}`,
  size: body.length,
  sha256: sha256(body),
});

describe('manifest', () => {
  const manifest: Manifest = {
    version: 1,
    storage: 's3://KEY:verysecret@bucket/assets?region=us-east-1',
    files: [entry('models/b.onnx', 'b'), entry('models/a.onnx', 'a')],
  };

  it('serialises sorted by path, without secrets, and parses back', () => {
    const text = serializeManifest(manifest);
    expect(text).not.toContain('verysecret');
    const parsed = parseManifest(text);
    expect(parsed.files.map((f) => f.path)).toEqual(['models/a.onnx', 'models/b.onnx']);
    expect(parsed.storage).toBe('s3://KEY:***@bucket/assets?region=us-east-1');
  });

  it('writes atomically and reads back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-manifest-'));
    const file = join(dir, 'stowage.lock.json');
    await writeManifest(manifest, file);
    expect((await readManifest(file)).files).toHaveLength(2);
    expect(await readdir(dir)).toEqual(['stowage.lock.json']);
    expect((await readFile(file, 'utf8')).endsWith('\n')).toBe(true);
    await rm(dir, { recursive: true });
  });

  it('merges by path, newest wins', () => {
    const merged = mergeManifests(manifest, {
      version: 1,
      storage: 's3://bucket/new',
      files: [entry('models/a.onnx', 'a2')],
    });
    expect(merged.storage).toBe('s3://bucket/new');
    expect(merged.files.find((f) => f.path === 'models/a.onnx')?.sha256).toBe(sha256('a2'));
    expect(merged.files).toHaveLength(2);
  });

  it('refuses malformed manifests with the field named', async () => {
    await expectCode(async () => parseManifest('{'), 'INVALID_ARGUMENT');
    await expectCode(async () => parseManifest('{"version":2,"storage":"x","files":[]}'), 'INVALID_ARGUMENT');
    const err = await expectCode(
      async () =>
        parseManifest(
          JSON.stringify({ version: 1, storage: 'x', files: [{ ...entry('../etc/passwd', 'x') }] }),
        ),
      'INVALID_KEY',
    );
    expect(err.message).toContain('files[0].path');
    await expectCode(
      async () =>
        parseManifest(
          JSON.stringify({ version: 1, storage: 'x', files: [{ ...entry('a', 'x'), sha256: 'nope' }] }),
        ),
      'INVALID_ARGUMENT',
    );
    await expectCode(readManifest('/nonexistent/stowage.lock.json'), 'NOT_FOUND');
  });
});
