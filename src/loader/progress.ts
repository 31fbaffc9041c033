import { formatBytes } from '../util/bytes.js';
import { log } from '../util/log.js';
import { formatDuration } from './format.js';

export type FileState = 'pending' | 'checking' | 'waiting' | 'downloading' | 'verifying' | 'ready' | 'failed';

/** One file's progress, as status() and onProgress report it. */
export interface FileStatus {
  /** The manifest path, or the source as printed in logs (never a signed URL). */
  name: string;
  state: FileState;
  /** Bytes present locally (resumed bytes included). */
  bytes: number;
  /** Object size, once known. */
  total: number | undefined;
  /** Bytes per second over this download (resumed bytes excluded); fixed once the file is ready or failed. */
  rate: number;
  /** Seconds left at the current rate, when it can be estimated. */
  eta: number | undefined;
  /** True when the file came from the cache without a download. */
  cached: boolean;
  error?: string;
}

export interface ProgressOptions {
  /** Milliseconds between log lines per file (default 5000); 0 disables the lines. */
  progressInterval?: number;
  onProgress?: (status: FileStatus) => void;
}

/**
 * Tracks one file and writes a plain line every few seconds while it
 * downloads, so `heroku logs` shows where the boot time goes.
 */
export class FileProgress {
  state: FileState = 'pending';
  bytes = 0;
  total: number | undefined;
  cached = false;
  error: string | undefined;
  private sessionBytes = 0;
  private startedAt = 0;
  /** When the file finished (ready or failed): its rate stops there instead of decaying. */
  private stoppedAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    private readonly options: ProgressOptions = {},
  ) {}

  setState(state: FileState): void {
    this.state = state;
    if (state === 'downloading' && this.startedAt === 0) this.start();
    if (state === 'ready' || state === 'failed') this.stop();
    this.emit();
  }

  /** Bytes already on disk when a download resumes. */
  resumedFrom(bytes: number): void {
    this.bytes = bytes;
    this.emit();
  }

  add(bytes: number): void {
    this.bytes += bytes;
    this.sessionBytes += bytes;
    this.emit();
  }

  /** A part that failed mid-way is fetched again: take its bytes back. */
  remove(bytes: number): void {
    this.bytes = Math.max(0, this.bytes - bytes);
  }

  /** Bytes that arrived in this run, none taken back: what the rate floor counts. */
  get received(): number {
    return this.sessionBytes;
  }

  rate(): number {
    const seconds = this.startedAt ? ((this.stoppedAt || Date.now()) - this.startedAt) / 1000 : 0;
    return seconds > 0 ? this.sessionBytes / seconds : 0;
  }

  status(): FileStatus {
    const rate = this.rate();
    const left = this.total === undefined ? undefined : Math.max(0, this.total - this.bytes);
    const eta = this.state === 'ready' ? 0 : left !== undefined && rate > 0 ? left / rate : undefined;
    const out: FileStatus = {
      name: this.name,
      state: this.state,
      bytes: this.bytes,
      total: this.total,
      rate: Math.round(rate),
      eta: eta === undefined ? undefined : Math.round(eta * 10) / 10,
      cached: this.cached,
    };
    if (this.error) out.error = this.error;
    return out;
  }

  /** The line logged every few seconds while downloading. */
  line(): string {
    const s = this.status();
    const total = s.total ?? 0;
    const pct = total > 0 ? ` (${Math.floor((s.bytes / total) * 100)}%)` : '';
    const eta = s.eta === undefined ? '' : `, ETA ${formatDuration(s.eta)}`;
    return `${this.name}: ${formatBytes(s.bytes)} of ${formatBytes(total)}${pct}, ${formatBytes(s.rate)}/s${eta}`;
  }

  private start(): void {
    this.startedAt = Date.now();
    const every = this.options.progressInterval ?? 5_000;
    if (every > 0) {
      this.timer = setInterval(() => {
        if (this.state === 'downloading') log.info(this.line());
      }, every);
      this.timer.unref();
    }
  }

  private stop(): void {
    this.stoppedAt ||= Date.now();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private emit(): void {
    this.options.onProgress?.(this.status());
  }
}

/** Download summary line, e.g. "models/x.onnx: ready, 400 MB in 8.9 s (45.0 MB/s), sha256 verified". */
export function doneLine(progress: FileProgress, seconds: number, verified: boolean): string {
  const size = formatBytes(progress.total ?? progress.bytes);
  const rate = formatBytes(progress.rate());
  return `${progress.name}: ready, ${size} in ${seconds.toFixed(1)} s (${rate}/s)${verified ? ', sha256 verified' : ''}`;
}
