import { inspect } from 'node:util';
import { setLogger } from '../../src/util/log.js';

/** Everything an error can show: message, stack, causes (recursively), own fields, JSON and inspect(). */
export function errorText(err: unknown, depth = 0): string {
  if (depth > 8 || err === null || err === undefined) return String(err);
  if (typeof err !== 'object') return String(err);
  const e = err as Error & { cause?: unknown };
  const parts = [String(e.message), String(e.stack)];
  try {
    parts.push(JSON.stringify(err));
  } catch {
    parts.push('[unserialisable]');
  }
  parts.push(inspect(err, { depth: 8, showHidden: false, getters: false }));
  if (e.cause !== undefined) parts.push(errorText(e.cause, depth + 1));
  if (Array.isArray((err as AggregateError).errors))
    for (const inner of (err as AggregateError).errors) parts.push(errorText(inner, depth + 1));
  return parts.join('\n');
}

/** Collects every text the library shows while `fn` runs: thrown errors, log lines, and anything on stdout/stderr. */
export class Transcript {
  readonly texts: string[] = [];
  paths = 0;

  async run(label: string, fn: () => Promise<unknown>): Promise<unknown> {
    this.paths++;
    try {
      const value = await fn();
      this.texts.push(`${label}: ok ${typeof value === 'string' ? value : inspect(value, { depth: 4 })}`);
      return value;
    } catch (err) {
      this.texts.push(`${label}: ${errorText(err)}`);
      return err;
    }
  }

  add(label: string, text: string): void {
    this.texts.push(`${label}: ${text}`);
  }

  /** Routes stowage's logger and the process streams into the transcript until the returned restore(). */
  captureOutput(): () => void {
    setLogger({ info: (m) => this.texts.push(`log: ${m}`), warn: (m) => this.texts.push(`log: ${m}`) });
    const out = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    const tap =
      (original: typeof process.stdout.write) =>
      (chunk: unknown, ...rest: unknown[]): boolean => {
        this.texts.push(`stream: ${String(chunk)}`);
        return (original as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
      };
    process.stdout.write = tap(out) as typeof process.stdout.write;
    process.stderr.write = tap(err) as typeof process.stderr.write;
    return () => {
      process.stdout.write = out;
      process.stderr.write = err;
      setLogger({ info: (m) => console.log(m), warn: (m) => console.warn(m) });
    };
  }

  /** Every place a secret shows up (label of the text and the secret's name). */
  scan(secrets: Record<string, string>): string[] {
    const hits: string[] = [];
    for (const text of this.texts) {
      for (const [name, secret] of Object.entries(secrets)) {
        const forms = [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')];
        if (forms.some((f) => text.includes(f)))
          hits.push(`${name} in ${text.slice(0, 120).replace(/\n/g, ' ')}`);
      }
    }
    return hits;
  }
}
