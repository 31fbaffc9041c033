import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { StorageConfig } from '../config/registry.js';
import { isStowageError, StowageError } from '../core/errors.js';
import { normalisePrefix } from '../core/keys.js';
import type { Storage } from '../core/types.js';
import type { CheckResult } from './doctor.js';
import { openStorage } from './storage-target.js';

/** The S3 adapter's smallest part size: a body one byte above it takes two parts. */
const PART_SIZE = 5 * 1024 * 1024;

export type Add = (name: string, result: CheckResult, detail: string) => void;

/** The checks of `stowage doctor`, each adding its row; all keys under `scratch`. */
export class Probe {
  private readonly body = Buffer.from(`stowage doctor ${randomBytes(8).toString('hex')}\n`);
  private directUploadUrl: string | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly scratch: string,
    private readonly add: Add,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** Runs one check; an error is its FAIL row. Returns whether it passed. */
  private async check(name: string, fn: () => Promise<string>): Promise<boolean> {
    if (this.signal?.aborted) {
      this.add(name, 'skip', 'interrupted');
      return false;
    }
    try {
      this.add(name, 'ok', await fn());
      return true;
    } catch (err) {
      if (isStowageError(err, 'NOT_SUPPORTED')) {
        this.add(name, 'skip', `not supported: ${err.message}`);
        return false;
      }
      this.add(name, 'FAIL', err instanceof Error ? err.message : String(err));
      return false;
    }
  }

  async basics(): Promise<void> {
    const key = `${this.scratch}probe.txt`;
    const s = this.storage;
    const put = await this.check('put', async () => {
      await s.put(key, this.body, { contentType: 'text/plain', metadata: { probe: 'doctor' } });
      return `${this.body.length} bytes`;
    });
    if (!put) {
      for (const name of ['get', 'range get', 'head', 'list', 'copy', 'delete'])
        this.add(name, 'skip', 'put failed');
      return;
    }
    await this.check('get', async () => {
      const got = await readAll((await s.get(key, { signal: this.signal })).body);
      if (!got.equals(this.body)) throw new Error(`read back ${got.length} bytes that differ from those put`);
      return 'bytes match';
    });
    await this.check('range get', async () => {
      const got = await readAll((await s.get(key, { range: { start: 2, end: 5 } })).body);
      if (!got.equals(this.body.subarray(2, 6)))
        throw new Error(`bytes 2-5 came back as ${got.length} other bytes`);
      return 'bytes 2-5 match';
    });
    await this.check('head', async () => {
      const info = await s.head(key);
      if (info.size !== this.body.length) throw new Error(`size ${info.size}, expected ${this.body.length}`);
      return `size ${info.size}${info.metadata.probe === 'doctor' ? ', metadata kept' : ''}`;
    });
    await this.check('list', async () => {
      const keys: string[] = [];
      for await (const info of s.list(this.scratch)) keys.push(info.key);
      if (!keys.includes(key)) throw new Error(`the object put is not listed (${keys.length} listed)`);
      return `${keys.length} object(s) under the scratch prefix`;
    });
    await this.check('copy', async () => {
      if (!s.capabilities.copy) throw notSupported('no server-side copy');
      const copied = await s.copy(key, `${this.scratch}copy.txt`);
      if (copied.size !== this.body.length) throw new Error(`the copy has ${copied.size} bytes`);
      return 'server-side copy';
    });
    await this.check('delete', async () => {
      await s.delete(`${this.scratch}copy.txt`);
      if (await s.exists(`${this.scratch}copy.txt`))
        throw new Error('the object is still there after delete');
      return 'gone after delete';
    });
  }

  async multipart(config: StorageConfig, url: string): Promise<void> {
    if (config.adapter !== 's3') {
      this.add('multipart upload', 'skip', `not supported: ${this.storage.name} has no multipart uploads`);
      return;
    }
    // A Storage of its own with the smallest part size: two parts for a 5 MiB + 1 body.
    const small = await openStorage(
      { adapter: 's3', options: { ...config.options, partSize: PART_SIZE } as typeof config.options },
      url,
    );
    const body = randomBytes(PART_SIZE + 1);
    const key = `${this.scratch}multipart.bin`;
    await this.check('multipart upload', async () => {
      await small.put(key, body, { size: body.length, ...(this.signal ? { signal: this.signal } : {}) });
      const info = await small.head(key);
      if (info.size !== body.length) throw new Error(`stored ${info.size} bytes, sent ${body.length}`);
      return `2 parts, ${body.length} bytes`;
    });
  }

  /** What `stowage sweep` needs to abort stale multipart uploads (nothing is older than 1970: aborts none). */
  async listMultipart(): Promise<void> {
    const s = this.storage;
    const sweep = s.sweepIncompleteUploads?.bind(s);
    if (!sweep) {
      this.add('list multipart uploads', 'skip', `not supported: ${s.name} has no multipart uploads`);
      return;
    }
    await this.check('list multipart uploads', async () => {
      await sweep(this.scratch, new Date(0), {
        dryRun: true,
        ...(this.signal ? { signal: this.signal } : {}),
      });
      return 'answered (stowage sweep can abort stale uploads)';
    });
  }

  async presigned(recommendations: string[]): Promise<void> {
    const s = this.storage;
    const key = `${this.scratch}probe.txt`;
    if (!s.capabilities.signedUrls) this.add('presigned GET', 'skip', `not supported by ${s.name}`);
    else {
      await this.check('presigned GET', async () => {
        const res = await fetch(await s.url(key, { expiresIn: 300 }), signalOpt(this.signal));
        const got = Buffer.from(await res.arrayBuffer());
        if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
        if (!got.equals(this.body)) throw new Error('the bytes differ from those put');
        return 'fetched, bytes match';
      });
    }
    if (!s.presignUpload) {
      this.add('presigned POST', 'skip', `not supported by ${s.name}`);
      this.add('presigned PUT', 'skip', `not supported by ${s.name}`);
      return;
    }
    const presign = s.presignUpload.bind(s);
    // What directUpload() would hand a browser here: the adapter picks POST or PUT from the store's profile.
    const chosen = await presign(`${this.scratch}choice.txt`, {
      maxSize: 1024,
      size: this.body.length,
      contentType: 'text/plain',
    }).then(
      (grant) => grant.method,
      () => 'POST' as const,
    );
    if (chosen === 'PUT') {
      this.add('presigned POST', 'skip', "the store's profile takes no browser POST: presigned PUT instead");
      recommendations.push(
        'this store takes no POST: directUpload() grants presigned PUTs (the browser sends its size first)',
      );
    } else {
      let refusedPost = false;
      await this.check('presigned POST', async () => {
        const grant = await presign(`${this.scratch}post.txt`, {
          maxSize: 1024,
          expiresIn: 300,
          method: 'POST',
        });
        this.directUploadUrl = grant.url;
        const form = new FormData();
        for (const [name, value] of Object.entries(grant.fields)) form.append(name, value);
        form.append('Content-Type', 'text/plain');
        form.append(grant.fileField, new Blob([this.body], { type: 'text/plain' }), 'probe.txt');
        const res = await fetch(grant.url, { method: 'POST', body: form, ...signalOpt(this.signal) });
        if (res.status >= 300) {
          const code = errorCodeOf(await res.text());
          refusedPost =
            res.status === 405 || res.status === 501 || /NotImplemented|MethodNotAllowed/.test(code);
          throw new Error(`HTTP ${res.status} ${code}`);
        }
        const info = await s.head(`${this.scratch}post.txt`);
        if (info.size !== this.body.length) throw new Error(`stored ${info.size} bytes`);
        return `HTTP ${res.status}, object stored`;
      });
      if (refusedPost) {
        recommendations.push(
          'this store takes no POST: set the preset (e.g. preset=r2) or directUpload({ method: "PUT" })',
        );
      }
    }
    await this.check('presigned PUT', () => this.presignedPut(presign));
  }

  /** A presigned PUT with size and type signed: stored as sent, and (on a store that checks) another size refused. */
  private async presignedPut(presign: NonNullable<Storage['presignUpload']>): Promise<string> {
    const key = `${this.scratch}put.txt`;
    const grant = await presign(key, {
      maxSize: 1024,
      size: this.body.length,
      contentType: 'text/plain',
      expiresIn: 300,
      method: 'PUT',
    });
    if (grant.method !== 'PUT') throw notSupported(`${this.storage.name} grants no presigned PUT`);
    this.directUploadUrl ??= grant.url;
    const send = async (body: Buffer): Promise<Response> => {
      const res = await fetch(grant.url, {
        method: 'PUT',
        headers: grant.headers,
        body,
        ...signalOpt(this.signal),
      });
      await res.arrayBuffer();
      return res;
    };
    const res = await send(this.body);
    if (res.status >= 300) throw new Error(`HTTP ${res.status}`);
    const info = await this.storage.head(key);
    if (info.size !== this.body.length) throw new Error(`stored ${info.size} bytes`);
    const longer = await send(Buffer.concat([this.body, Buffer.from('x')]));
    const sizeCheck =
      longer.status === 403
        ? 'a body of another size refused (403)'
        : `a body of another size was accepted (HTTP ${longer.status}): the store does not check the signed Content-Length; confirm still does`;
    return `HTTP ${res.status}, object stored; ${sizeCheck}`;
  }

  async checksums(config: StorageConfig, recommendations: string[]): Promise<void> {
    const key = `${this.scratch}checksum.txt`;
    const sha256 = createHash('sha256').update(this.body).digest('hex');
    await this.check('put with sha256', async () => {
      await this.storage.put(key, this.body, { sha256, size: this.body.length });
      return 'the adapter verified the bytes against the sha256';
    });
    const client = (this.storage as { client?: S3Client }).client;
    if (this.signal?.aborted) {
      this.add('checksum headers', 'skip', 'interrupted');
      return;
    }
    if (config.adapter !== 's3' || !client) {
      this.add(
        'checksum headers',
        'skip',
        `not supported: ${this.storage.name} sends no S3 checksum headers`,
      );
      return;
    }
    const mode = await client.config.requestChecksumCalculation();
    const headerKey = `${this.scratch}checksum-header.txt`;
    let accepted = false;
    let why = '';
    try {
      // What the SDK sends under WHEN_SUPPORTED: a streamed body with a trailing x-amz-checksum-crc32.
      const { PutObjectCommand } = await import('@aws-sdk/client-s3');
      const prefix = normalisePrefix(config.options.prefix);
      await client.send(
        new PutObjectCommand({
          Bucket: config.options.bucket,
          Key: `${prefix ? `${prefix}/` : ''}${headerKey}`,
          Body: Readable.from([this.body]),
          ContentLength: this.body.length,
          ChecksumAlgorithm: 'CRC32',
        }),
      );
      const got = await readAll((await this.storage.get(headerKey)).body);
      accepted = got.equals(this.body);
      if (!accepted)
        why = `stored ${got.length} bytes for ${this.body.length}: it kept the aws-chunked framing`;
    } catch (err) {
      why = err instanceof Error ? err.message : String(err);
    }
    if (accepted) {
      this.add('checksum headers', 'ok', `CRC32 checksum headers accepted (configured: ${mode})`);
      return;
    }
    recommendations.push('checksums WHEN_REQUIRED');
    // Only a FAIL when this configuration sends them.
    this.add(
      'checksum headers',
      mode === 'WHEN_REQUIRED' ? 'ok' : 'FAIL',
      `the store refuses SDK checksum headers (${why})${mode === 'WHEN_REQUIRED' ? '; WHEN_REQUIRED, as configured, sends none' : ''}`,
    );
  }

  async cors(origin: string | undefined): Promise<void> {
    if (origin === undefined) {
      this.add('CORS', 'skip', 'pass --origin <origin> to check direct uploads from a browser');
      return;
    }
    const target = this.directUploadUrl;
    if (!target) {
      this.add('CORS', 'skip', 'not supported: no direct-upload endpoint');
      return;
    }
    for (const method of ['POST', 'PUT']) {
      await this.check(`CORS ${method}`, async () => {
        const res = await fetch(target, {
          method: 'OPTIONS',
          headers: { Origin: origin, 'Access-Control-Request-Method': method },
          ...signalOpt(this.signal),
        });
        await res.arrayBuffer();
        const allowed = res.headers.get('access-control-allow-origin');
        if (res.status >= 300 || (allowed !== '*' && allowed !== origin)) {
          throw new Error(
            `preflight from ${origin} refused (HTTP ${res.status}): add a CORS rule to the bucket`,
          );
        }
        return `allowed for ${origin}`;
      });
    }
  }

  /** Deletes everything under the scratch prefix, then checks nothing is left; not cancellable. */
  async cleanup(): Promise<void> {
    try {
      for (let pass = 0; pass < 2; pass++) {
        const keys: string[] = [];
        for await (const info of this.storage.list(this.scratch)) keys.push(info.key);
        if (keys.length === 0) {
          this.add('cleanup', 'ok', 'nothing left under the scratch prefix');
          return;
        }
        for (const key of keys) await this.storage.delete(key);
      }
      this.add('cleanup', 'FAIL', `objects are still under ${this.scratch}`);
    } catch (err) {
      this.add('cleanup', 'FAIL', `${this.scratch}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

function notSupported(message: string): StowageError {
  return new StowageError('NOT_SUPPORTED', message);
}

/** The <Code> of an S3 XML error body: the part that says what is wrong. */
function errorCodeOf(xml: string): string {
  return /<Code>([^<]{1,100})<\/Code>/.exec(xml)?.[1] ?? '(no S3 error code)';
}

function signalOpt(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}

async function readAll(body: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
