import { S3Storage } from '../../adapters/s3/index.js';
import { runConformance } from '../../src/testing/conformance.js';
import { storageOn } from '../s3/harness.js';
import { liveS3Options } from '../s3/live.js';
import { startS3Server } from '../servers/s3-server.js';

runConformance('s3 (s3rver on loopback)', async () => {
  const server = await startS3Server();
  return {
    storage: storageOn(server, { prefix: 'root/prefix' }),
    // Unfinished multipart uploads, read from the server's directory.
    leftovers: () => server.pendingUploads(),
    close: () => server.stop(),
  };
});

const live = liveS3Options();
if (live.options) {
  runConformance('s3 (live, STOWAGE_TEST_S3_URL)', async () => {
    const storage = new S3Storage(live.options!);
    return {
      storage,
      // ListMultipartUploads is not part of the contract; live runs check it through the SDK client.
      leftovers: async () => {
        const { ListMultipartUploadsCommand } = await import('@aws-sdk/client-s3');
        const out = await storage.client.send(
          new ListMultipartUploadsCommand({ Bucket: storage.bucket, Prefix: live.options!.prefix }),
        );
        return (out.Uploads ?? []).map((u) => `${u.Key} (${u.UploadId})`);
      },
    };
  });
} else {
  console.log(`[s3 live conformance] skipped: ${live.reason}`);
}
