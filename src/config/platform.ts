import { log } from '../util/log.js';

export interface PlatformInfo {
  /** Name of the ephemeral-disk platform, or undefined when none is detected. */
  name: string | undefined;
  ephemeralDisk: boolean;
}

/** Detects platforms whose local disk is wiped at restart, from cheap environment markers. */
export function detectPlatform(env: NodeJS.ProcessEnv = process.env): PlatformInfo {
  const name = env.DYNO
    ? 'Heroku'
    : env.RENDER
      ? 'Render'
      : env.FLY_APP_NAME
        ? 'Fly.io'
        : env.K_SERVICE
          ? 'Google Cloud Run'
          : env.RAILWAY_ENVIRONMENT
            ? 'Railway'
            : env.DYNO_NAME || env.APP_PLATFORM_NAME
              ? 'a dyno platform'
              : undefined;
  return { name, ephemeralDisk: name !== undefined };
}

let warned = false;

/**
 * Warns once per process when local-disk storage runs on an ephemeral
 * platform: the files it writes vanish at the next restart.
 */
export function warnIfEphemeral(where: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (warned || env.STOWAGE_EPHEMERAL_OK === '1') return false;
  const platform = detectPlatform(env);
  if (!platform.ephemeralDisk) return false;
  warned = true;
  log.warn(
    `WARNING: storing files on local disk (${where}) on ${platform.name}, whose disk is wiped at every restart ` +
      '(at least daily): everything written there will be lost. Fix: set STOWAGE_URL to object storage ' +
      '(s3://bucket/prefix, or add the Bucketeer, Cloudcube or Cloudinary add-on, which stowage detects). ' +
      'If the loss is intended (a cache), set STOWAGE_EPHEMERAL_OK=1 to silence this warning.',
  );
  return true;
}

/** For tests: forget that the warning was given. */
export function resetEphemeralWarning(): void {
  warned = false;
}
