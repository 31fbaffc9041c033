import { S3Storage, type S3StorageOptions } from '../../adapters/s3/index.js';
import type { S3TestServer } from '../servers/s3-server.js';

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
