#!/usr/bin/env node
/**
 * Text recognition API: PaddleOCR's PP-OCRv4 recogniser on onnxruntime-node,
 * its weights restored at boot from the store named in stowage.lock.json.
 *
 * It binds $PORT at once (a platform kills a web process that has not bound
 * in time: Heroku's R10 comes after 60 s) while artifacts() downloads and
 * verifies the files; ready() holds requests until the model is open (up
 * to 25 s), else answers 503 with Retry-After and the progress.
 *
 *   POST /recognize   body: a PNG of one line of text -> {"text": "Hello, Heroku!", "confidence": 0.998}
 *   GET  /healthz     200 when the model is open, 503 before (the gate answers it)
 *   GET  /status      200 always, with the download progress
 */
import express from 'express';
import { artifacts } from 'stowage';
import { errorHandler, ready } from 'stowage/express';
import { openRecognizer } from './recognizer.mjs';

const MODEL = 'models/ch_PP-OCRv4_rec_infer.onnx';
const DICTIONARY = 'models/ppocr_keys_v1.txt';
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(2)} s`;

// Starts the download now and returns at once. The lock file names the store;
// STOWAGE_URL, when set, is the same store with its credentials.
const weights = artifacts({ storage: process.env.STOWAGE_URL || undefined });
let recognizer;
const opened = weights.ready.then(async () => {
  // onnxruntime-node reads the model from its path: the restored file, as it was published.
  recognizer = await openRecognizer(MODEL, DICTIONARY);
  console.log(`model ready after ${elapsed()}: ${recognizer.classes} classes`);
});
opened.catch((err) => console.error(`model failed to load: ${err.message}`));

// The gate waits for "files restored and the session open", not just the download.
const model = {
  ready: opened,
  isReady: () => recognizer !== undefined,
  status: () => ({ ...weights.status(), modelOpen: recognizer !== undefined }),
};

const app = express();

app.get('/status', (_req, res) => res.json(model.status()));

// Every route below waits for the model.
app.use(ready(model, { retryAfter: 2, healthPath: '/healthz' }));

app.post('/recognize', express.raw({ type: () => true, limit: '4mb' }), async (req, res, next) => {
  try {
    if (!Buffer.isBuffer(req.body) || req.body.length === 0) {
      res.status(400).json({
        error: {
          code: 'INVALID_ARGUMENT',
          message: 'send a PNG image of one line of text as the request body',
        },
      });
      return;
    }
    const began = performance.now();
    const result = await recognizer.recognize(req.body);
    res.json({ ...result, ms: Math.round(performance.now() - began) });
  } catch (err) {
    if (err.status === 415) {
      res.status(415).json({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: err.message } });
      return;
    }
    next(err);
  }
});

app.use(errorHandler());

const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, () => {
  console.log(`listening on port ${port} after ${elapsed()} (model loading in the background)`);
});

// The platform sends SIGTERM before a restart: stop taking connections and leave.
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
});
