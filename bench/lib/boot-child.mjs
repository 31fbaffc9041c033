// One "dyno" boot for the concurrent-boots figure: loads the model through the
// transpiled library and exits. Env: STOWAGE_DIST, MODEL_URL, MODEL_SHA256, CACHE_DIR.
import { pathToFileURL } from 'node:url';

const { loadModel } = await import(pathToFileURL(`${process.env.STOWAGE_DIST}/src/loader/index.js`).href);
await loadModel(process.env.MODEL_URL, {
  sha256: process.env.MODEL_SHA256,
  cacheDir: process.env.CACHE_DIR,
  progressInterval: 0,
});
