import { POST_POLICY_SOURCE } from './s3-post-policy.js';

/**
 * The code the s3rver child process runs (CommonJS, passed with `node -e`).
 * It starts s3rver 3.7.1 and patches the few places where s3rver departs
 * from S3 in ways that would make correct client code look wrong:
 *
 * - listObjects: s3rver walks directories in readdir order and filters pages
 *   with `key <= startAfter`, so pages skip or repeat keys unless the walk is
 *   in UTF-8 byte order (it never is: "a/b" sorts after "a-c" in S3). Patched
 *   to collect, sort by bytes, then page, as S3 does.
 * - putObject (also behind CompleteMultipartUpload) writes straight into the
 *   final file and the metadata beside it, so concurrent writes to one key
 *   interleave. S3 makes each write atomic; patched to serialise writes per key.
 * - DeleteObjects deletes in parallel and its directory pruning races into
 *   500s; deletes are serialised per bucket.
 * - AbortMultipartUpload (DELETE ?uploadId) answers 405. Emulated: the
 *   upload's part directory is removed and 204 returned (404 NoSuchUpload
 *   when unknown), like S3. UploadPart for an unknown upload recreates its
 *   directory: answered NoSuchUpload, as by S3, and an abort waits for the
 *   parts being written (else a part landing after the abort leaves a keyless
 *   upload behind, and one written during it crashes s3rver).
 * - x-amz-copy-source is decoded with decodeURI, which leaves %2B %26 %3B %3D
 *   %23 %3F encoded, so a correctly encoded source with "+ & ; = # ?" is not
 *   found. S3 percent-decodes the whole value; the header is rewritten so
 *   s3rver's decodeURI yields exactly what S3 would.
 * - ListMultipartUploads (GET ?uploads) answers NotImplemented. Emulated from
 *   the upload directories, in S3's order and paging (prefix, max-uploads,
 *   key-marker, upload-id-marker); Initiated is the mtime of the upload's
 *   "key" file, so a test can age an upload with utimes.
 * - UploadPartCopy (multipart copy) answers NotImplemented. Emulated from the
 *   store: the source range is read and stored as the part.
 * - POST Object (browser upload) stores whatever arrives and ignores the
 *   policy. S3 checks the SigV4 signature, expiry, every condition and
 *   content-length-range, and stores nothing when one fails: enforced as S3
 *   does by s3-post-policy.ts (what it covers and what not is listed there).
 *
 * `POST /_stowage/seed` {keys, body} creates many small objects at once
 * through s3rver's store, for fixtures such as a 1,000+ key listing.
 * Every request is recorded (method, path, query names, a few headers);
 * `GET /_stowage/requests` returns the record and `DELETE` clears it, so
 * tests can assert what the client really sent (e.g. that an abort was sent).
 * Not patched, and declared by the tests instead: SigV4 verification of
 * ordinary requests (POST policies are verified), suffix ranges,
 * "bytes=0-0" (s3rver reads an end of 0 as "to the end"
 * and answers with the whole object).
 */
export const CHILD_SOURCE = String.raw`
'use strict';
const path = require('path');
const fs = require('fs');
const [s3rverMain, directory, bucket] = process.argv.slice(1);
const S3rver = require(s3rverMain);
const FilesystemStore = require(path.join(path.dirname(s3rverMain), 'stores', 'filesystem.js'));

const uploadsDir = path.join(directory, bucket, '._S3rver_uploads');
const requests = [];

// Per-key write serialisation.
const chains = new Map();
function serialise(id, fn) {
  const prev = chains.get(id) || Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  chains.set(id, tail);
  tail.then(() => { if (chains.get(id) === tail) chains.delete(id); });
  return run;
}
const putObject = FilesystemStore.prototype.putObject;
FilesystemStore.prototype.putObject = function (object) {
  return serialise(object.bucket + '/' + object.key, () => putObject.call(this, object));
};
// DeleteObjects deletes its keys in parallel, and each delete prunes empty parent
// directories with readdirSync/rmdir: parallel prunes race into ENOENT and a 500.
const deleteObject = FilesystemStore.prototype.deleteObject;
FilesystemStore.prototype.deleteObject = function (b, key) {
  return serialise('delete:' + b, () => deleteObject.call(this, b, key));
};
// putObjectMultipart (CompleteMultipartUpload) ends in putObject, so it is serialised too.

// POST policies checked as S3 does (s3-post-policy.ts).
${POST_POLICY_SOURCE}
installPostPolicy(path.dirname(s3rverMain));

// Listing in UTF-8 byte order, paged after startAfter.
const S3Object = require(path.join(path.dirname(s3rverMain), 'models', 'object.js'));
const OBJECT_SUFFIX = '._S3rver_object';
function walkKeys(dir, rel, out) {
  let entries;
  try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
  for (const e of entries) {
    if (e.isDirectory()) {
      if (e.name !== '._S3rver_uploads') walkKeys(path.join(dir, e.name), rel + e.name + '/', out);
    } else if (e.name.endsWith(OBJECT_SUFFIX)) {
      out.push(rel + e.name.slice(0, -OBJECT_SUFFIX.length));
    }
  }
}
FilesystemStore.prototype.listObjects = async function (b, options) {
  const { delimiter = '', startAfter = '', prefix = '', maxKeys = Infinity } = options;
  // Walk only the deepest directory the prefix names, then filter by the whole prefix.
  const dirPart = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/') + 1) : '';
  const found = [];
  walkKeys(path.join(this.getBucketPath(b), dirPart), dirPart, found);
  const keys = found.filter((k) => k.startsWith(prefix))
    .sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  const after = Buffer.from(startAfter || '');
  const page = [];
  const commonPrefixes = new Set();
  let isTruncated = false;
  for (const key of keys) {
    if (startAfter && Buffer.compare(Buffer.from(key), after) <= 0) continue;
    if (delimiter) {
      const idx = key.slice(prefix.length).indexOf(delimiter);
      if (idx !== -1) { commonPrefixes.add(key.slice(0, prefix.length + idx + 1)); continue; }
    }
    if (page.length >= maxKeys) { isTruncated = true; break; }
    page.push(key);
  }
  const objects = [];
  for (const key of page) {
    try {
      objects.push(new S3Object(b, key, null, await this.getMetadata(b, key)));
    } catch (err) {
      if (err.code !== 'ENOENT') throw err; // Deleted while listing.
    }
  }
  return { objects, commonPrefixes: [...commonPrefixes].sort(), isTruncated };
};

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: [{ name: bucket }],
});

const HEADERS = ['content-length', 'content-type', 'x-amz-copy-source', 'x-amz-copy-source-range',
  'x-amz-checksum-crc32', 'x-amz-content-sha256', 'content-encoding', 'x-amz-meta-sha256',
  'x-amz-metadata-directive', 'range'];

server.middleware.unshift(async (ctx, next) => {
  if (ctx.path === '/_stowage/seed' && ctx.method === 'POST') {
    // Test fixtures in bulk, through s3rver's own store (HTTP per object is ~10 ms here).
    let text = '';
    for await (const chunk of ctx.req) text += chunk;
    const { keys, body } = JSON.parse(text);
    for (const key of keys) {
      await server.store.putObject(new S3Object(bucket, key, Buffer.from(body),
        { 'content-type': 'application/octet-stream', 'content-length': String(Buffer.byteLength(body)) }));
    }
    ctx.body = JSON.stringify({ created: keys.length });
    ctx.type = 'application/json';
    return;
  }
  if (ctx.path === '/_stowage/requests') {
    if (ctx.method === 'DELETE') requests.length = 0;
    ctx.body = JSON.stringify(requests);
    ctx.type = 'application/json';
    return;
  }
  const headers = {};
  for (const h of HEADERS) if (ctx.get(h)) headers[h] = ctx.get(h);
  const entry = { method: ctx.method, path: ctx.path, query: Object.keys(ctx.query), headers };
  requests.push(entry);
  const copySource = ctx.get('x-amz-copy-source');
  if (copySource) {
    try {
      ctx.req.headers['x-amz-copy-source'] = encodeURI(decodeURIComponent(copySource));
    } catch {
      // Malformed: let s3rver answer as it does.
    }
  }
  if (ctx.method === 'PUT' && typeof ctx.query.uploadId === 'string' && ctx.query.partNumber !== undefined) {
    await uploadPart(ctx, copySource ? () => uploadPartCopy(ctx) : next);
    entry.status = ctx.status;
    return;
  }
  if (ctx.method === 'GET' && ctx.query.uploads !== undefined && ctx.path.split('/').filter(Boolean).length === 1) {
    listMultipartUploads(ctx);
    entry.status = ctx.status;
    return;
  }
  if (ctx.method === 'DELETE' && typeof ctx.query.uploadId === 'string') {
    const id = path.basename(ctx.query.uploadId);
    const dir = path.join(uploadsDir, id);
    if (fs.existsSync(dir) && !aborting.has(id)) {
      // Parts being written finish first (S3 frees them too); parts arriving from now on are refused.
      aborting.add(id);
      try {
        await Promise.allSettled([...(partsInFlight.get(id) || [])]);
        fs.rmSync(dir, { recursive: true, force: true });
      } finally {
        aborting.delete(id);
      }
      ctx.status = 204;
    } else noSuchUpload(ctx);
    entry.status = ctx.status;
    return;
  }
  try {
    await next();
    entry.status = ctx.status;
  } catch (err) {
    entry.status = (err && err.status) || 500;
    throw err;
  }
});

// s3rver writes a part for an upload id it does not know by creating its directory, so a part
// landing after AbortMultipartUpload brings the upload back as a keyless leftover, and an abort
// removing the directory while a part is written crashes s3rver (ENOENT on its write stream).
// S3 refuses a part for an unknown upload (NoSuchUpload): emulated, and an abort waits for the
// parts being written.
const partsInFlight = new Map();
const aborting = new Set();

function noSuchUpload(ctx) {
  ctx.status = 404;
  ctx.type = 'application/xml';
  ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code>' +
    '<Message>The specified upload does not exist.</Message></Error>';
}

async function uploadPart(ctx, write) {
  const id = path.basename(ctx.query.uploadId);
  if (aborting.has(id) || !fs.existsSync(path.join(uploadsDir, id))) {
    ctx.req.resume();
    return noSuchUpload(ctx);
  }
  const run = Promise.resolve().then(write);
  // A part whose client went away may never settle in s3rver: it counts as done once the request closed.
  const settled = Promise.race([run.catch(() => undefined), new Promise((r) => ctx.req.once('close', r))]);
  const set = partsInFlight.get(id) || new Set();
  partsInFlight.set(id, set);
  set.add(settled);
  try {
    await run;
  } finally {
    set.delete(settled);
    if (set.size === 0) partsInFlight.delete(id);
  }
}

function xmlText(value) {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// The uploads s3rver holds (one directory each, with the key in a file written at creation,
// whose mtime is when the upload was initiated), in S3's order: by key, then upload id.
function listMultipartUploads(ctx) {
  const prefix = typeof ctx.query.prefix === 'string' ? ctx.query.prefix : '';
  const keyMarker = typeof ctx.query['key-marker'] === 'string' ? ctx.query['key-marker'] : '';
  const idMarker = typeof ctx.query['upload-id-marker'] === 'string' ? ctx.query['upload-id-marker'] : '';
  const max = Math.min(1000, Number(ctx.query['max-uploads']) || 1000);
  const all = [];
  for (const id of fs.existsSync(uploadsDir) ? fs.readdirSync(uploadsDir) : []) {
    const keyFile = path.join(uploadsDir, id, 'key');
    if (!fs.existsSync(keyFile)) continue;
    all.push({ key: fs.readFileSync(keyFile, 'utf8'), id, initiated: fs.statSync(keyFile).mtime });
  }
  all.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const after = all.filter((u) => u.key.startsWith(prefix) &&
    (!keyMarker || u.key > keyMarker || (idMarker && u.key === keyMarker && u.id > idMarker)));
  const page = after.slice(0, max);
  const truncated = after.length > page.length;
  const last = page[page.length - 1];
  ctx.status = 200;
  ctx.type = 'application/xml';
  ctx.body = '<?xml version="1.0" encoding="UTF-8"?>' +
    '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    '<Bucket>' + xmlText(bucket) + '</Bucket><KeyMarker>' + xmlText(keyMarker) + '</KeyMarker>' +
    '<UploadIdMarker>' + xmlText(idMarker) + '</UploadIdMarker>' +
    (truncated ? '<NextKeyMarker>' + xmlText(last.key) + '</NextKeyMarker><NextUploadIdMarker>' +
      xmlText(last.id) + '</NextUploadIdMarker>' : '') +
    '<Prefix>' + xmlText(prefix) + '</Prefix><MaxUploads>' + max + '</MaxUploads>' +
    '<IsTruncated>' + truncated + '</IsTruncated>' +
    page.map((u) => '<Upload><Key>' + xmlText(u.key) + '</Key><UploadId>' + xmlText(u.id) +
      '</UploadId><Initiated>' + u.initiated.toISOString() + '</Initiated><StorageClass>STANDARD</StorageClass></Upload>').join('') +
    '</ListMultipartUploadsResult>';
}

async function uploadPartCopy(ctx) {
  const source = decodeURI(ctx.get('x-amz-copy-source')).replace(/^\//, '');
  const [srcBucket, ...rest] = source.split('/');
  const srcKey = rest.join('/');
  const range = /^bytes=(\d+)-(\d+)$/.exec(ctx.get('x-amz-copy-source-range') || '');
  const options = range ? { start: Number(range[1]), end: Number(range[2]) } : undefined;
  const object = await server.store.getObject(srcBucket, srcKey, options);
  ctx.type = 'application/xml';
  if (!object || !object.content) {
    ctx.status = object ? 416 : 404;
    ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>' +
      (object ? 'InvalidRange' : 'NoSuchKey') + '</Code><Message>copy source</Message></Error>';
    return;
  }
  const { md5 } = await server.store.putPart(decodeURIComponent(ctx.path.split('/')[1]),
    ctx.query.uploadId, ctx.query.partNumber, object.content);
  ctx.status = 200;
  ctx.body = '<?xml version="1.0" encoding="UTF-8"?><CopyPartResult><LastModified>' +
    new Date().toISOString() + '</LastModified><ETag>"' + md5 + '"</ETag></CopyPartResult>';
}

server.run().then(({ port }) => {
  process.stdout.write(JSON.stringify({ port }) + '\n');
}, (err) => {
  process.stderr.write(String(err && err.stack || err) + '\n');
  process.exit(1);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;
