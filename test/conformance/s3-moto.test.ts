import { runConformance } from '../../src/testing/conformance.js';
import { storageOn } from '../s3/harness.js';
import { startMotoServer } from '../servers/moto-server.js';

// The same suite against a second, independent S3 server that verifies every SigV4 signature.
runConformance('s3 (moto on loopback, signatures verified)', async () => {
  const server = await startMotoServer();
  return {
    storage: storageOn(server, { prefix: 'root/prefix' }),
    // Unfinished multipart uploads, through S3's ListMultipartUploads.
    leftovers: () => server.pendingUploads(),
    close: () => server.stop(),
  };
});
