// The browser side of the direct-multipart figure, in its own process so its CPU time and peak RSS
// are its own. Does what @uppy/aws-s3 6.x does in Companion mode (lib/s3-client/CompanionS3.js):
// POST /s3/multipart, then per part GET /s3/multipart/:uploadId/:partNumber?key= for its URL and a
// PUT of a Blob slice straight to the store, PARALLEL parts in flight; then GET /s3/multipart/:uploadId
// (the parts list Uppy reads on resume), POST …/complete, and stowage's POST /confirm. Parts go in
// parallel as a client tuned for speed would send them: Uppy 6.3.1's S3Uploader itself awaits one
// part before the next (its `limit` of 6 counts files), which only makes the dyno idler still.
// Env: APP (the app's directUpload mount URL), FILE, PARALLEL. Prints a JSON line once completed, waits for
// a line on stdin (the figure samples CPU between the phases), confirms, prints its figures.
import { openAsBlob } from 'node:fs';
import { createInterface } from 'node:readline';

const { APP: app, FILE: file } = process.env;
const parallel = Number(process.env.PARALLEL);

async function json(url, init = {}) {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

const blob = await openAsBlob(file);
const start = performance.now();
const grant = await json(`${app}/s3/multipart`, {
  method: 'POST',
  body: JSON.stringify({
    filename: 'bench.bin',
    type: 'application/octet-stream',
    metadata: { size: blob.size },
  }),
});
const { key, uploadId, partSize } = grant;
const count = Math.max(1, Math.ceil(blob.size / partSize));
const q = new URLSearchParams({ key });
const etags = [];
let next = 1;
const lane = async () => {
  while (next <= count) {
    const n = next++;
    const { url } = await json(`${app}/s3/multipart/${encodeURIComponent(uploadId)}/${n}?${q}`);
    const res = await fetch(url, { method: 'PUT', body: blob.slice((n - 1) * partSize, n * partSize) });
    if (!res.ok) throw new Error(`part ${n}: ${res.status} ${await res.text()}`);
    etags[n - 1] = res.headers.get('etag');
    if (!etags[n - 1]) throw new Error(`part ${n}: no ETag in the answer (CORS ExposeHeaders in a browser)`);
  }
};
await Promise.all(Array.from({ length: Math.min(parallel, count) }, lane));
const listed = await json(`${app}/s3/multipart/${encodeURIComponent(uploadId)}?${q}`);
if (listed.length !== count) throw new Error(`the store lists ${listed.length} parts, ${count} were sent`);
await json(`${app}/s3/multipart/${encodeURIComponent(uploadId)}/complete?${q}`, {
  method: 'POST',
  body: JSON.stringify({ parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) }),
});
const uploaded = performance.now();
// The figure samples the processes' CPU between the two phases, then lets confirm go.
console.log(JSON.stringify({ uploaded: true }));
for await (const _ of createInterface({ input: process.stdin })) break;
const confirmStart = performance.now();
const { file: confirmed } = await json(`${app}/confirm`, {
  method: 'POST',
  body: JSON.stringify({ uploadKey: key, filename: 'bench.bin' }),
});
const done = performance.now();
if (confirmed.size !== blob.size) throw new Error(`confirmed ${confirmed.size} bytes, sent ${blob.size}`);
const cpu = process.cpuUsage();
console.log(
  JSON.stringify({
    key: confirmed.key,
    parts: count,
    partSize,
    uploadMs: uploaded - start,
    confirmMs: done - confirmStart,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
