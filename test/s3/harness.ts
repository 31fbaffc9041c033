import { afterAll, beforeAll, describe, it } from 'vitest';
import { S3Storage, type S3StorageOptions } from '../../adapters/s3/index.js';
import { MOTO_GAPS, startMotoServer } from '../servers/moto-server.js';
import { type S3TestServer, startS3Server } from '../servers/s3-server.js';

/** Options for an S3Storage on the loopback test server; every credential explicit. */
export function serverOptions(server: S3TestServer, extra: Partial<S3StorageOptions> = {}): S3StorageOptions {
  return {
    bucket: server.bucket,
    region: server.region,
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    ...extra,
  };
}

export function storageOn(server: S3TestServer, extra: Partial<S3StorageOptions> = {}): S3Storage {
  return new S3Storage(serverOptions(server, extra));
}

/** What s3rver cannot show that a test here needs (its other departures: s3-server-child.ts). */
export const S3RVER_GAPS = {
  signatureChecks:
    'the secret is never checked: s3rver accepts any well-formed SigV4 signature for its key id; moto verifies them',
} as const;

/** Something S3 does that one of the test servers cannot show. */
export type S3Feature = keyof typeof S3RVER_GAPS | keyof typeof MOTO_GAPS;

/** One S3 implementation the S3 tests run against. */
export interface S3ServerKind {
  name: 's3rver' | 'moto';
  start(): Promise<S3TestServer>;
  /** What it cannot show, and why: a test that needs one of these runs on the other server only. */
  gaps: Partial<Record<S3Feature, string>>;
}

export const S3RVER: S3ServerKind = { name: 's3rver', start: () => startS3Server(), gaps: S3RVER_GAPS };
/** moto with SigV4 signatures verified against an IAM key. */
export const MOTO: S3ServerKind = { name: 'moto', start: () => startMotoServer(), gaps: MOTO_GAPS };
export const S3_SERVERS: readonly S3ServerKind[] = [S3RVER, MOTO];

/** The S3 test server of one describe block, and an S3Storage on it. */
export interface S3ServerFixture {
  /** Which server this is. */
  readonly kind: S3ServerKind;
  /** The running server; there from beforeAll on. */
  readonly server: S3TestServer;
  /** An S3Storage on the server with the options given to useS3Server, built on first use. */
  readonly storage: S3Storage;
  /**
   * A test that needs `feature`: registered where the server can show it;
   * where it cannot, a line says so and which server runs it instead.
   */
  it(feature: S3Feature, name: string, fn: () => Promise<void>): void;
}

/**
 * Starts the S3 test server in beforeAll and stops it in afterAll of the
 * enclosing describe block (or file). Hooks registered after this call run
 * after the server started and, as vitest stacks afterAll, before it stops.
 */
export function useS3Server(
  storageOptions: Partial<S3StorageOptions> = {},
  kind: S3ServerKind = S3RVER,
): S3ServerFixture {
  let server: S3TestServer | undefined;
  let storage: S3Storage | undefined;
  beforeAll(async () => {
    server = await kind.start();
  });
  afterAll(async () => {
    await server?.stop();
  });
  const started = (): S3TestServer => {
    if (!server)
      throw new Error('useS3Server: the server starts in beforeAll; use it inside hooks and tests');
    return server;
  };
  return {
    kind,
    get server() {
      return started();
    },
    get storage() {
      storage ??= storageOn(started(), storageOptions);
      return storage;
    },
    it(feature, name, fn) {
      const gap = kind.gaps[feature];
      if (!gap) return void it(name, fn);
      const others = S3_SERVERS.filter((other) => !other.gaps[feature]).map((other) => other.name);
      if (others.length === 0) throw new Error(`no S3 test server can show ${feature}: ${name}`);
      console.log(`[${kind.name}] cannot show ${feature} (${gap}): "${name}" runs on ${others.join(', ')}`);
    },
  };
}

/**
 * The same tests against every S3 test server (s3rver, then moto), one
 * server per block: `body` registers them with the block's fixture.
 */
export function describeEachS3Server(
  title: string,
  storageOptions: Partial<S3StorageOptions>,
  body: (s3: S3ServerFixture) => void,
): void {
  for (const kind of S3_SERVERS) {
    describe(`${title} (${kind.name})`, () => body(useS3Server(storageOptions, kind)));
  }
}
