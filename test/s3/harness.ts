import { afterAll, beforeAll } from 'vitest';
import { S3Storage, type S3StorageOptions } from '../../adapters/s3/index.js';
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

/** The S3 test server of one describe block, and an S3Storage on it. */
export interface S3ServerFixture {
  /** The running server; there from beforeAll on. */
  readonly server: S3TestServer;
  /** An S3Storage on the server with the options given to useS3Server, built on first use. */
  readonly storage: S3Storage;
}

/**
 * Starts the S3 test server in beforeAll and stops it in afterAll of the
 * enclosing describe block (or file). Hooks registered after this call run
 * after the server started and, as vitest stacks afterAll, before it stops.
 */
export function useS3Server(storageOptions: Partial<S3StorageOptions> = {}): S3ServerFixture {
  let server: S3TestServer | undefined;
  let storage: S3Storage | undefined;
  beforeAll(async () => {
    server = await startS3Server();
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
    get server() {
      return started();
    },
    get storage() {
      storage ??= storageOn(started(), storageOptions);
      return storage;
    },
  };
}
