/** Sizes per BENCH_SCALE: smoke proves the harness in seconds per figure; full gives the 1 GiB figures. */
export interface Scale {
  name: 'smoke' | 'small' | 'full';
  runs: number;
  limitsMB: number;
  loaderMB: number;
  loaderS3MB: number;
  uploadMB: number;
  /** The browser-style multipart upload through directUpload() (parts of 5 MiB: smoke still has 4). */
  directMB: number;
  bootsMB: number;
  s3MB: number;
  serveSeconds: number;
  serveConnections: number;
  cliFiles: number;
  cliMB: number;
  /** Invocations of bench/cli (each alternates aws and stowage once; it rebuilds its tree, so smoke does one). */
  cliRounds: number;
  dynoMB: number;
  /** The one LFS file of the Hugging Face Hub figure. */
  hfMB: number;
}

const SCALES: Record<Scale['name'], Omit<Scale, 'name'>> = {
  smoke: {
    runs: 3,
    limitsMB: 32,
    loaderMB: 8,
    loaderS3MB: 4,
    uploadMB: 4,
    directMB: 16,
    bootsMB: 8,
    s3MB: 8,
    serveSeconds: 1,
    serveConnections: 16,
    cliFiles: 30,
    cliMB: 2,
    cliRounds: 1,
    dynoMB: 4,
    hfMB: 8,
  },
  small: {
    runs: 3,
    limitsMB: 256,
    loaderMB: 256,
    loaderS3MB: 128,
    uploadMB: 128,
    directMB: 256,
    bootsMB: 256,
    s3MB: 128,
    serveSeconds: 5,
    serveConnections: 32,
    cliFiles: 500,
    cliMB: 64,
    cliRounds: 3,
    dynoMB: 64,
    hfMB: 256,
  },
  full: {
    runs: 3,
    limitsMB: 1024,
    loaderMB: 1024,
    loaderS3MB: 1024,
    uploadMB: 1024,
    directMB: 1024,
    bootsMB: 1024,
    s3MB: 1024,
    serveSeconds: 10,
    serveConnections: 64,
    cliFiles: 2000,
    cliMB: 500,
    cliRounds: 3,
    dynoMB: 1024,
    hfMB: 1024,
  },
};

export function resolveScale(value = process.env.BENCH_SCALE ?? 'small'): Scale {
  if (!(value in SCALES)) throw new Error(`BENCH_SCALE must be smoke, small or full (got "${value}")`);
  const name = value as Scale['name'];
  return { name, ...SCALES[name] };
}
