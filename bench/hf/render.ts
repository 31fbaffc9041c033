/** The Hugging Face Hub figure's section of BENCHMARKS.md (from bench/hf/hub.bench.ts's figure). */
import { fmtMs, fmtRate, fmtRatio, table } from '../lib/markdown.js';
import { median } from '../lib/stats.js';
import type { HfFigure, Side } from './figure.js';

const CHECKS: Record<Side, string> = {
  stowage: 'yes (X-Linked-Etag, while streaming)',
  python: 'no (size only)',
  js: 'no',
};

export function renderHf(f: HfFigure | undefined): string[] {
  if (!f) return [];
  const sides = Object.keys(f.sides) as Side[];
  const cold = (side: Side) => median(f.sides[side].coldMs);
  const warm = (side: Side) => median(f.sides[side].warmMs);
  const l = f.limits;
  return [
    `One ${f.sizeMB} MiB LFS file, cold (empty cache), ${f.runs} alternating runs (stowage, Python, JS, …), medians:`,
    '',
    table(
      ['side', 'median time', 'throughput', 'ratio', 'sha256 verified', 'requests', 'emulator CPU (median)'],
      sides.map((side) => [
        f.sides[side].label,
        fmtMs(cold(side)),
        fmtRate(f.sizeMB, cold(side)),
        fmtRatio(cold(side) / cold('stowage')),
        CHECKS[side],
        String(f.sides[side].coldRequests),
        fmtMs(median(f.sides[side].hubCpuMs)),
      ]),
    ),
    '',
    `Warm hit (the file already in that side's cache), ${f.warmRuns} alternating runs, medians:`,
    '',
    table(
      ['side', 'median warm hit', 'ratio', 'requests per hit'],
      sides.map((side) => [
        f.sides[side].label,
        `${warm(side).toFixed(2)} ms`,
        fmtRatio(warm(side) / warm('stowage')),
        String(f.sides[side].warmRequests),
      ]),
    ),
    '',
    `Machine limits measured by this figure in the same run (bench/lib/limits.ts, median of 3): sha256 ${l.sha256MBps.toFixed(0)} MB/s, ` +
      `disk write (fsync) ${l.diskWriteMBps.toFixed(0)} MB/s, loopback ${l.loopbackMBps.toFixed(0)} MB/s; ` +
      `${l.cores} cores, load average ${l.loadAverage.map((x) => x.toFixed(2)).join(', ')} after measuring them.`,
    '',
    'The hub emulator (test/servers/hf-hub.ts) runs in its own process: the resolve URL answers 302 with X-Repo-Commit, ' +
      'X-Linked-Etag and X-Linked-Size; its CDN server on another host streams the file from disk. Every side pins the same commit ' +
      '(as a lock file does) and is timed in a warm process, start-up not counted: stowage and @huggingface/hub in the benchmark ' +
      'process, huggingface_hub in one long-lived Python worker (bench/hf/hf_hub_worker.py, timed inside Python). ' +
      'Each kept file is checked (size and sha256) after the clock stops. stowage fsyncs before its rename; neither peer fsyncs. ' +
      `Emulator CPU: its process's CPU time per download; far below the time, the emulator is not what sets the pace. ` +
      `Versions: huggingface_hub ${f.versions.huggingface_hub} (Python ${f.versions.python}, HF_HUB_DISABLE_XET=1: the emulator speaks no Xet), ` +
      `@huggingface/hub ${f.versions['@huggingface/hub']}, Node ${f.versions.node}. hf_transfer: ${f.hfTransfer}; ` +
      'huggingface_hub ran its plain single-stream download.',
  ];
}
