import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StowageError } from '../../src/core/errors.js';
import { loadModel } from '../../src/loader/index.js';
import { setLogger } from '../../src/util/log.js';
import { type FaultProxy, type FaultRules, startFaultProxy } from '../servers/fault-proxy.js';
import { type RangeServer, startHttpRangeServer } from '../servers/http-range-server.js';
import { sha256, walk } from './files.js';
import { FULL, report, rng, scaled, TRIAL_TIMEOUT } from './scale.js';

const SIZE = 96 * 1024 + 321; // seven parts, the last one short
const PART = 16 * 1024;
const LANES = FULL ? 10 : 4;
const TRIALS = scaled(1_000, 40);
const KINDS = ['reset', 'stall', 'flip', 'flip-once', '5xx', 'ignore-range', 'replaced', 'combo'] as const;
type Kind = (typeof KINDS)[number];

let root: string;
let server: RangeServer;
const proxies: FaultProxy[] = [];

beforeAll(async () => {
  setLogger({ info: () => undefined, warn: () => undefined });
  root = await mkdtemp(join(tmpdir(), 'stowage-chaos-loader-'));
  await mkdir(join(root, 'files'));
  server = await startHttpRangeServer(join(root, 'files'));
  for (let i = 0; i < LANES; i++) proxies.push(await startFaultProxy(server.url));
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.stop()));
  await server?.stop();
  setLogger({ info: (m) => console.log(m), warn: (m) => console.warn(m) });
  await rm(root, { recursive: true, force: true });
});

/** Writes by temp + rename, so the server sees a new version (new ETag). */
async function replace(path: string, data: Buffer): Promise<void> {
  await writeFile(`${path}.new`, data);
  await rename(`${path}.new`, path);
}

interface Trial {
  kind: Kind;
  rules: FaultRules;
  /** Set when the object is replaced during the download. */
  replaced?: Promise<void>;
  withSha: boolean;
}

function planTrial(r: ReturnType<typeof rng>, file: string, next: Buffer): Trial {
  const kind = r.pick(KINDS);
  const rules: FaultRules = {};
  const trial: Trial = { kind, rules, withSha: true };
  const addReset = () => {
    let left = 1 + r.int(4);
    const prob = 0.2 + r.next() * 0.5;
    rules.fault = (n) => {
      if (n === 1 || left === 0 || r.next() >= prob) return undefined;
      left--;
      return { resetAfter: r.int(PART) };
    };
  };
  const add = (k: Kind) => {
    if (k === 'reset') addReset();
    else if (k === 'stall') {
      const at = 1 + r.int(8);
      rules.fault = (n) => (n === at ? { stallAfter: r.int(PART) } : undefined);
    } else if (k === 'flip') rules.flipByteAt = r.int(SIZE);
    else if (k === 'flip-once') {
      rules.flipByteAt = r.int(SIZE);
      const clearAt = 2 + r.int(8);
      rules.fault = (n) => {
        if (n >= clearAt) rules.flipByteAt = undefined;
        return undefined;
      };
    } else if (k === '5xx') rules.failNext = { status: r.pick([500, 502, 503, 504]), count: 1 + r.int(4) };
    else if (k === 'ignore-range') rules.ignoreRange = true;
    else if (k === 'replaced') {
      // Half the time the caller pins a sha256 (a replaced object must then be refused),
      // half the time not (the result must be one whole version, never a mix).
      trial.withSha = r.next() < 0.5;
      const at = 1 + r.int(6);
      rules.fault = (n) => {
        if (n === at) trial.replaced = replace(file, next);
        return undefined;
      };
    }
  };
  if (kind === 'combo') {
    const [a, b] = [r.pick(KINDS.slice(0, 6)), r.pick(KINDS.slice(0, 6))];
    add(a as Kind);
    if (b !== a && !(rules.fault && (b === 'reset' || b === 'stall' || b === 'flip-once'))) add(b as Kind);
  } else add(kind);
  return trial;
}

interface Findings {
  trials: number;
  ok: number;
  errors: Record<string, number>;
  failures: string[];
  leftovers: string[];
  kinds: Record<string, number>;
}

/** Blobs whose bytes do not hash to their name, and anything left in tmp/ or locks/. */
async function inspectCache(cacheDir: string, afterSuccess: boolean): Promise<string[]> {
  const found: string[] = [];
  for (const rel of await walk(join(cacheDir, 'blobs', 'sha256'))) {
    const name = rel.split('/').pop() as string;
    if (!/^[0-9a-f]{64}$/.test(name)) continue;
    const data = await readFile(join(cacheDir, 'blobs', 'sha256', rel));
    if (sha256(data) !== name) found.push(`corrupt blob ${rel}`);
  }
  const locks = await readdir(join(cacheDir, 'locks')).catch(() => []);
  if (locks.length) found.push(`locks left: ${locks.join(',')}`);
  if (afterSuccess) {
    const tmp = await readdir(join(cacheDir, 'tmp')).catch(() => []);
    if (tmp.length) found.push(`tmp left: ${tmp.join(',')}`);
  }
  return found;
}

async function runLane(lane: number, count: number, seed: number, findings: Findings): Promise<void> {
  const r = rng(seed + lane);
  const proxy = proxies[lane] as FaultProxy;
  const name = `lane-${lane}.bin`;
  const file = join(root, 'files', name);
  for (let i = 0; i < count; i++) {
    const original = randomBytes(SIZE);
    const successor = randomBytes(SIZE - r.int(2) * 1000);
    await replace(file, original);
    const trial = planTrial(r, file, successor);
    findings.kinds[trial.kind] = (findings.kinds[trial.kind] ?? 0) + 1;
    proxy.rules = trial.rules;
    proxy.resetStats();
    const cacheDir = await mkdtemp(join(root, 'cache-'));
    const label = `lane ${lane} trial ${i} (${trial.kind}, seed ${seed})`;
    const options = {
      cacheDir,
      partSize: PART,
      concurrency: 3,
      retries: 2,
      stallTimeout: 250,
      progressInterval: 0,
      ...(trial.withSha ? { sha256: sha256(original) } : {}),
    };
    findings.trials++;
    try {
      const path = await loadModel(`${proxy.url}/${name}`, options);
      const got = await readFile(path);
      const whole = got.equals(original) || (!trial.withSha && got.equals(successor));
      if (!whole) findings.failures.push(`${label}: returned a file that is neither version`);
      findings.ok++;
      findings.leftovers.push(...(await inspectCache(cacheDir, true)).map((x) => `${label}: ${x}`));
    } catch (err) {
      if (!(err instanceof StowageError) || !err.message) {
        findings.failures.push(`${label}: not a clear StowageError: ${String(err)}`);
      } else findings.errors[err.code] = (findings.errors[err.code] ?? 0) + 1;
      findings.leftovers.push(...(await inspectCache(cacheDir, false)).map((x) => `${label}: ${x}`));
      // The failure must not poison the cache: a clean retry completes and leaves nothing behind.
      await trial.replaced;
      proxy.rules = {};
      const current = await readFile(file);
      try {
        const path = await loadModel(`${proxy.url}/${name}`, { ...options, sha256: sha256(current) });
        if (!(await readFile(path)).equals(current))
          findings.failures.push(`${label}: recovery file differs`);
        findings.leftovers.push(
          ...(await inspectCache(cacheDir, true)).map((x) => `${label} (recovery): ${x}`),
        );
      } catch (again) {
        findings.failures.push(`${label}: recovery failed: ${String(again)}`);
      }
    }
    await trial.replaced;
    await rm(cacheDir, { recursive: true, force: true });
  }
}

describe('chaos: loader under randomised faults', () => {
  it(
    `${TRIALS} downloads through the fault proxy end verified or with a clear StowageError, no corrupt file, no leftovers`,
    async () => {
      const seed = rng().seed;
      const findings: Findings = { trials: 0, ok: 0, errors: {}, failures: [], leftovers: [], kinds: {} };
      await Promise.all(
        Array.from({ length: LANES }, (_, lane) =>
          runLane(lane, Math.ceil(TRIALS / LANES), seed * 97, findings),
        ),
      );
      report({
        area: 'loader faults',
        trials: findings.trials,
        failures: findings.failures.length,
        leftovers: findings.leftovers.length,
        note: `seed ${seed}; verified ${findings.ok}; errors ${JSON.stringify(findings.errors)}; kinds ${JSON.stringify(findings.kinds)}`,
      });
      expect(findings.failures).toEqual([]);
      expect(findings.leftovers).toEqual([]);
      expect(findings.trials).toBeGreaterThanOrEqual(TRIALS);
      // The faults really bit: some runs failed cleanly and some recovered.
      expect(findings.ok).toBeGreaterThan(0);
      expect(Object.keys(findings.errors).length).toBeGreaterThan(0);
    },
    TRIAL_TIMEOUT,
  );
});
