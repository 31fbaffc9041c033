import type { IncomingMessage, ServerResponse } from 'node:http';
import { drainRefusedBody } from '../refused-body.js';

/**
 * The client's side of one upload request: when it leaves, when its body
 * has fully arrived, whether it can still be answered, and how a refused
 * body is read off the socket so the answer reaches it.
 */
export class ClientConnection {
  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {}

  /** Calls `onGone` once if the client disconnects before the response is finished. */
  onGone(onGone: () => void): void {
    let called = false;
    const gone = (): void => {
      if (called) return;
      called = true;
      onGone();
    };
    this.req.once('aborted', gone);
    this.req.once('error', gone);
    this.res.once('close', () => {
      if (!this.res.writableFinished) gone();
    });
  }

  /** True when another body parser mounted earlier already consumed the body. */
  bodyAlreadyRead(): boolean {
    return this.req.readableEnded || (this.req as IncomingMessage & { _body?: boolean })._body === true;
  }

  /**
   * Resolves once the whole HTTP body arrived (busboy can finish parsing
   * before the last bytes do), or as soon as `signal` fires.
   */
  bodyEnded(signal: AbortSignal): Promise<void> {
    if (this.req.complete || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.req.off('end', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.req.once('end', done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** False once the response started or the socket is gone: nobody is left to answer. */
  canAnswer(): boolean {
    return !this.res.headersSent && !this.res.destroyed;
  }

  /** Keeps reading (and discarding) what the client still sends, up to `limit`, so it gets the answer. */
  drainRefused(limit: number): void {
    drainRefusedBody(this.req, this.res, limit);
  }
}
