// The peer side of the upload figure, in its own process so its peak RSS is its own:
// multer + multer-s3 streaming multipart files into the S3 test server.
// Env: S3_ENDPOINT, S3_BUCKET, S3_REGION, S3_KEY, S3_SECRET.
import { randomUUID } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import express from 'express';
import multer from 'multer';
import multerS3 from 'multer-s3';

const s3 = new S3Client({
  region: process.env.S3_REGION,
  endpoint: process.env.S3_ENDPOINT,
  forcePathStyle: true,
  credentials: { accessKeyId: process.env.S3_KEY, secretAccessKey: process.env.S3_SECRET },
  // s3rver stores aws-chunked framing as data under the SDK's default checksum mode.
  requestChecksumCalculation: 'WHEN_REQUIRED',
});
const store = multerS3({
  s3,
  bucket: process.env.S3_BUCKET,
  key: (_req, _file, cb) => cb(null, `multer/${randomUUID()}`),
});
const app = express();
app.post('/upload', multer({ storage: store }).single('file'), (req, res) => {
  res.json({ files: [{ key: req.file.key, size: req.file.size }] });
});
app.use((err, _req, res, _next) => res.status(500).json({ error: String(err) }));
const server = app.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
