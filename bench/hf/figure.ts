/** What bench/hf/hub.bench.ts reports to bench/run.ts (times in ms). */
import type { MachineLimits } from '../lib/limits.js';

export type Side = 'stowage' | 'python' | 'js';
export interface HfSideFigure {
  label: string;
  coldMs: number[];
  /** CPU time the emulator spent per cold download (ms): near coldMs, the emulator sets the pace. */
  hubCpuMs: number[];
  /** Requests both emulator hosts answered per cold download, and per warm hit. */
  coldRequests: number;
  warmRequests: number;
  warmMs: number[];
  verifiesSha256: boolean;
}
export interface HfFigure {
  sizeMB: number;
  runs: number;
  warmRuns: number;
  limits: MachineLimits;
  versions: Record<string, string>;
  hfTransfer: string;
  sides: Record<Side, HfSideFigure>;
}
