import { beforeAll, describe, expect, it } from 'vitest';
import { figures, type SimulationResult, simMegabytes, simulate } from './simulate.js';

const mb = simMegabytes();

describe(`dyno simulation (model ${mb} MiB; STOWAGE_SIM_MB to change)`, () => {
  let r: SimulationResult;

  beforeAll(
    async () => {
      r = await simulate({ mb, log: (line) => console.log(`[sim] ${line}`) });
      console.log(`\n${figures(r)}\n`);
    },
    120_000 + mb * 1_000,
  );

  it('migrate-assets moves the weights out of the slug and lists them in .slugignore', () => {
    expect(r.migrateExitCode, r.migrateOutput).toBe(0);
    expect(r.slugignore).toContain('models/sentiment.f32');
    expect(r.slugFilesAfter).toBe(r.slugFilesBefore); // the weights leave; stowage.lock.json arrives
    expect(r.slugBytesBefore - r.slugBytesAfter).toBeGreaterThan(r.modelBytes * 0.5);
  });

  it('binds $PORT while the weights are still downloading and answers 503 with Retry-After', () => {
    expect(r.whileLoading.status).toBe(503);
    expect(Number(r.whileLoading.retryAfter)).toBeGreaterThan(0);
    expect(r.whileLoading.body.state).toBe('loading');
  });

  it('serves predictions once the weights are restored and verified', () => {
    expect(r.afterLoading.status).toBe(200);
    expect(r.afterLoading.body.label).toBe('positive');
    expect(r.negative.body.label).toBe('negative');
    expect(r.cold.downloads).toBeGreaterThan(0);
  });

  it('recovers on a wiped disk by downloading the weights again', () => {
    expect(r.wiped.downloads).toBeGreaterThan(0);
    expect(r.wiped.logs).toMatch(/1 downloaded/);
  });

  it('starts warm after a crash on the same disk: no download', () => {
    expect(r.warm.downloads).toBe(0);
    expect(r.warm.logs).toMatch(/0 downloaded/);
  });
});
