/**
 * The hub emulator in its own process, so its serving does not share an event
 * loop with the clients being timed. Bundled by esbuild (hub.bench.ts) and run
 * with node. Serves BENCH_HF_FILE (streamed from disk) as bench/model/model.bin,
 * prints {url, commit} as one JSON line, then answers any line on stdin with its
 * CPU time so far (ms) and the requests answered since the last line, and exits when stdin closes.
 */
import { createInterface } from 'node:readline';
import { startHfHub } from '../../test/servers/hf-hub.js';

const hub = await startHfHub();
const commit = hub.addRepo('bench/model', [
  {
    path: 'model.bin',
    file: process.env.BENCH_HF_FILE as string,
    size: Number(process.env.BENCH_HF_SIZE),
    sha256: process.env.BENCH_HF_SHA256 as string,
  },
]);
process.stdout.write(`${JSON.stringify({ url: hub.url, cdnUrl: hub.cdnUrl, commit })}\n`);
const lines = createInterface({ input: process.stdin });
lines.on('line', () => {
  const { user, system } = process.cpuUsage();
  const requests = hub.log.length;
  hub.resetLog();
  process.stdout.write(`${JSON.stringify({ cpuMs: (user + system) / 1000, requests })}\n`);
});
lines.on('close', () => void hub.stop().then(() => process.exit(0)));
