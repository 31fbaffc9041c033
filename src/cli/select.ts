import { extname } from 'node:path';
import type picomatchModule from 'picomatch';
import { MANIFEST_FILE } from '../loader/manifest.js';
import { lazyRequire } from '../util/lazy-require.js';
import type { AppFile } from './repo-files.js';
import { SLUGIGNORE_FILE } from './slugignore.js';

const picomatch = lazyRequire<typeof picomatchModule>('picomatch');

/** Files that move by default: they are read at run time, never imported by code. */
export const ASSET_EXTENSIONS: ReadonlySet<string> = new Set(
  [
    // images
    'png jpg jpeg gif webp avif bmp tif tiff ico psd heic',
    // audio and video
    'mp3 wav ogg flac aac m4a opus mp4 m4v mov avi mkv webm wmv mpg mpeg',
    // models and data blobs
    'onnx pt pth bin safetensors ckpt h5 hdf5 pb tflite gguf ggml mlmodel joblib pkl pickle npy npz parquet arrow feather sqlite db',
    // archives
    'zip gz tgz bz2 xz zst 7z rar tar jar war',
    // fonts and documents
    'ttf otf woff woff2 eot pdf',
  ]
    .join(' ')
    .split(' ')
    .map((e) => `.${e}`),
);

/** Default size threshold: anything this big moves too (1 MB). */
export const DEFAULT_MIN_SIZE = 1_000_000;

/**
 * Never moved, whatever the selection: the build and boot need them in the
 * slug, and stowage's own files describe the migration.
 */
const NEVER_MOVED = new Set([
  MANIFEST_FILE,
  SLUGIGNORE_FILE,
  '.gitignore',
  'package.json',
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'Procfile',
  'app.json',
]);

/** Code and config a process imports before loadArtifacts() can run: not moved by the size rule alone. */
const CODE_EXTENSIONS = new Set(
  '.js .mjs .cjs .ts .mts .cts .jsx .tsx .json .node .wasm .lock .yml .yaml .toml'.split(' '),
);

export interface Selection {
  /** picomatch globs against app-relative paths; empty means "the default rule". */
  globs: string[];
  /** Minimum size in bytes; with globs, both must hold. */
  minSize?: number;
}

/** What to move: see Selection. Default: asset extensions, or any non-code file ≥ 1 MB. */
export function createSelector(selection: Selection): (file: AppFile) => boolean {
  const { globs, minSize } = selection;
  const glob = globs.length > 0 ? picomatch()(globs, { dot: true }) : undefined;
  return (file) => {
    if (file.symlink || isNeverMoved(file.path)) return false;
    if (glob) return glob(file.path) && (minSize === undefined || file.size >= minSize);
    if (minSize !== undefined) return file.size >= minSize;
    const ext = extname(file.path).toLowerCase();
    if (ASSET_EXTENSIONS.has(ext)) return true;
    return file.size >= DEFAULT_MIN_SIZE && !CODE_EXTENSIONS.has(ext);
  };
}

export function isNeverMoved(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return NEVER_MOVED.has(name) || path.startsWith('.git/') || path.startsWith('node_modules/');
}
