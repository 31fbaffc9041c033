import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalStorage } from '../../adapters/local/index.js';
import { detectPlatform, resetEphemeralWarning, warnIfEphemeral } from '../../src/config/platform.js';
import { setLogger } from '../../src/util/log.js';

function captureLog(): string[] {
  const lines: string[] = [];
  setLogger({ info: (m) => lines.push(m), warn: (m) => lines.push(m) });
  return lines;
}

afterEach(() => {
  resetEphemeralWarning();
  vi.unstubAllEnvs();
  setLogger({ info: (m) => console.log(m), warn: (m) => console.warn(m) });
});

describe('platform detection', () => {
  it('recognises ephemeral-disk platforms by their markers', () => {
    expect(detectPlatform({ DYNO: 'web.1' })).toEqual({ name: 'Heroku', ephemeralDisk: true });
    expect(detectPlatform({ RENDER: 'true' }).name).toBe('Render');
    expect(detectPlatform({ FLY_APP_NAME: 'x' }).name).toBe('Fly.io');
    expect(detectPlatform({ K_SERVICE: 'svc' }).name).toBe('Google Cloud Run');
    expect(detectPlatform({})).toEqual({ name: undefined, ephemeralDisk: false });
  });

  it('warns once, naming the fix, and STOWAGE_EPHEMERAL_OK=1 silences it', () => {
    const lines = captureLog();
    expect(warnIfEphemeral('test', { DYNO: 'web.1' })).toBe(true);
    expect(warnIfEphemeral('test', { DYNO: 'web.1' })).toBe(false);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Heroku/);
    expect(lines[0]).toMatch(/STOWAGE_URL/);
    expect(lines[0]).toMatch(/STOWAGE_EPHEMERAL_OK=1/);
    resetEphemeralWarning();
    expect(warnIfEphemeral('test', { DYNO: 'web.1', STOWAGE_EPHEMERAL_OK: '1' })).toBe(false);
    expect(warnIfEphemeral('test', {})).toBe(false);
    expect(lines).toHaveLength(1);
  });

  it('LocalStorage warns on a dyno', async () => {
    const lines = captureLog();
    vi.stubEnv('DYNO', 'web.1');
    vi.stubEnv('STOWAGE_EPHEMERAL_OK', '');
    const root = await mkdtemp(join(tmpdir(), 'stowage-platform-'));
    new LocalStorage({ root });
    new LocalStorage({ root });
    expect(lines.filter((l) => l.includes('wiped'))).toHaveLength(1);
    await rm(root, { recursive: true, force: true });
  });
});
