import { randomBytes } from 'node:crypto';
import { S3_PRESETS } from '../../adapters/s3/presets.js';
import { type StorageConfig, storageUrlOf } from '../config/registry.js';
import { StowageError } from '../core/errors.js';
import { Probe } from './doctor-probe.js';
import { checkStorageAccess, manifestUrl, openStorage, resolveStorageUrl } from './storage-target.js';

export type CheckResult = 'ok' | 'FAIL' | 'skip';

export interface DoctorCheck {
  name: string;
  result: CheckResult;
  detail: string;
}

export interface DoctorOptions {
  url?: string;
  env: NodeJS.ProcessEnv;
  /** Origin to test the CORS preflight of direct uploads with. */
  origin?: string;
  signal?: AbortSignal;
}

export interface DoctorResult {
  ok: boolean;
  storage: string;
  adapter: string;
  scratchPrefix: string;
  checks: DoctorCheck[];
  recommendations: string[];
}

/**
 * `stowage doctor`: a short live probe of the configured store. Every
 * operation runs on a scratch prefix, which is emptied (and checked empty)
 * whatever happens, Ctrl-C included. Unreachable storage or refused
 * credentials throw (exit 3); a failing check is a FAIL row (exit 1).
 */
export async function doctor(options: DoctorOptions): Promise<DoctorResult> {
  const config = resolveStorageUrl(options.url, options.env, 'storage URL');
  if (options.url === undefined && config.source.startsWith('default')) {
    throw new StowageError(
      'INVALID_ARGUMENT',
      'no storage configured: pass options.url (a storage URL such as s3://bucket) or set STOWAGE_URL',
    );
  }
  const url = manifestUrl(options.url ?? options.env.STOWAGE_URL ?? storageUrlOf(config));
  const storage = await openStorage(config, url);
  const checks: DoctorCheck[] = [];
  const recommendations: string[] = [];
  const add = (name: string, result: CheckResult, detail: string): void => {
    checks.push({ name, result, detail });
  };

  await checkStorageAccess(storage, url);
  add('credentials', 'ok', storage.name === 's3' ? 'accepted' : 'none needed');
  add('bucket exists', 'ok', 'listing answered');

  const scratch = `stowage-doctor/${randomBytes(6).toString('hex')}/`;
  const probe = new Probe(storage, scratch, add, options.signal);
  try {
    await probe.basics();
    await probe.multipart(config, url);
    await probe.listMultipart();
    await probe.presigned(recommendations);
    await probe.checksums(config, recommendations);
    await probe.cors(options.origin);
  } finally {
    await probe.cleanup();
  }
  addPresetAdvice(config, recommendations);
  return {
    ok: checks.every((c) => c.result !== 'FAIL'),
    storage: url,
    adapter: storage.name,
    scratchPrefix: scratch,
    checks,
    recommendations,
  };
}

function addPresetAdvice(config: StorageConfig, recommendations: string[]): void {
  if (config.adapter !== 's3' || config.options.preset) return;
  const preset = presetForEndpoint(config.options.endpoint);
  if (preset) recommendations.push(`preset=${preset}`);
}

const KNOWN_HOSTS: ReadonlyArray<[RegExp, string]> = [
  [/\.r2\.cloudflarestorage\.com$/i, 'r2'],
  [/\.backblazeb2\.com$/i, 'b2'],
  [/\.digitaloceanspaces\.com$/i, 'spaces'],
];

/** The S3_PRESETS entry made for an endpoint's host, when it is a known store's. */
export function presetForEndpoint(endpoint: string | undefined): string | undefined {
  if (!endpoint) return undefined;
  const host = new URL(endpoint).hostname;
  return KNOWN_HOSTS.find(([pattern, name]) => pattern.test(host) && S3_PRESETS[name])?.[1];
}
