// Child process for the killed-put tests: starts a put() of more than one part at a key and
// never ends the body, so the multipart upload stays open until the parent kills it (-9).
import { Readable } from 'node:stream';
import type { S3StorageOptions } from '../../adapters/s3/options.js';
import { S3Storage } from '../../adapters/s3/s3-storage.js';

const args = JSON.parse(process.argv[2] ?? '{}') as { options: S3StorageOptions; key: string };
const partSize = args.options.partSize ?? 5 * 1024 * 1024;
// One whole part and a byte of the next: the first part goes out, the second never fills.
const body = new Readable({ read() {} });
body.push(Buffer.alloc(partSize + 1, 0x62));
try {
  await new S3Storage(args.options).put(args.key, body);
  process.stderr.write('the put completed: the body was meant never to end\n');
} catch (err) {
  process.stderr.write(`put failed: ${(err as Error).message}\n`);
}
process.exitCode = 1;
