// The app side of the direct-multipart figure, in its own process so its CPU and peak RSS are its
// own: directUpload()'s signing endpoints over the S3 test server. The bytes go browser → store;
// this process only signs. Env: STOWAGE_DIST, S3_ENDPOINT, S3_BUCKET, S3_REGION, S3_KEY, S3_SECRET.
import { pathToFileURL } from 'node:url';
import express from 'express';

const dist = process.env.STOWAGE_DIST;
const lib = (path) => import(pathToFileURL(`${dist}/${path}`).href);
const { S3Storage } = await lib('adapters/s3/index.js');
const { directUpload, errorHandler } = await lib('src/express/index.js');

const storage = new S3Storage({
  bucket: process.env.S3_BUCKET,
  region: process.env.S3_REGION,
  endpoint: process.env.S3_ENDPOINT,
  forcePathStyle: true,
  credentials: { accessKeyId: process.env.S3_KEY, secretAccessKey: process.env.S3_SECRET },
});
const app = express();
app.use('/direct', directUpload(storage, { authorize: () => true, maxFileSize: 64 * 1024 ** 3 }));
app.use(errorHandler());
const server = app.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
