#!/usr/bin/env node
/**
 * A prediction API whose weights are restored at boot. It binds $PORT at
 * once (the platform kills a web process that has not bound within 60 s),
 * answers 503 with Retry-After while artifacts() downloads and verifies the
 * weights listed in stowage.lock.json, then serves predictions.
 *
 *   POST /predict {"text": "a wonderful film"} -> {"label": "positive", "positive": 0.97}
 *   GET  /health   -> 200 always (the process is up), with the loading status
 */
import express from 'express';
import { artifacts } from 'stowage';
import { errorHandler } from 'stowage/express';
import { openModel } from './model.mjs';

const MODEL_PATH = process.env.MODEL_PATH ?? 'models/sentiment.f32';
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(2)} s`;

// Starts the download now and returns at once. The manifest names the store;
// STOWAGE_URL, when set, is the same store with its credentials.
const weights = artifacts({ storage: process.env.STOWAGE_URL || undefined });
let model;
const loaded = weights.ready.then(async () => {
  model = await openModel(MODEL_PATH);
  console.log(`model ready after ${elapsed()}: ${model.buckets} weights`);
});
loaded.catch((err) => console.error(`model failed to load: ${err.message}`));

const app = express();
app.use(express.json({ limit: '16kb' }));

app.get('/health', (_req, res) => {
  res.json({ up: true, ready: model !== undefined, ...weights.status() });
});

// Every route below waits for the weights: held until ready (up to 25 s), else 503 + Retry-After + progress.
app.use(weights.middleware({ retryAfter: 2 }));
app.use((_req, res, next) => {
  // The files are in place but the model is still being opened: same answer, briefly.
  if (model) return next();
  res.status(503).set('Retry-After', '1').json({ error: 'model is opening' });
});

app.post('/predict', async (req, res, next) => {
  try {
    const text = req.body?.text;
    if (typeof text !== 'string' || text.length === 0 || text.length > 2000) {
      res
        .status(400)
        .json({ error: { code: 'INVALID_ARGUMENT', message: 'send {"text": "…"} (1 to 2000 characters)' } });
      return;
    }
    res.json({ text, ...(await model.predict(text)) });
  } catch (err) {
    next(err);
  }
});

app.use(errorHandler());

const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, () => {
  console.log(`listening on port ${port} after ${elapsed()} (weights loading in the background)`);
});

// The platform sends SIGTERM before a restart: stop taking connections and leave.
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
});
