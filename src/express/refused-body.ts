import type { IncomingMessage, ServerResponse } from 'node:http';

/** Bytes still read from a refused request's body before its connection is cut (default). */
export const DEFAULT_DRAIN_LIMIT = 8 * 1024 * 1024;
// After the answer, a client that pauses this long, or is still sending after this long, is cut
// off (nginx's lingering_timeout and lingering_time).
const LINGER_IDLE_MS = 5_000;
const LINGER_MAX_MS = 30_000;

/**
 * Call when refusing a request whose body may still be arriving, before answering it.
 *
 * Closing a socket with request bytes unread makes the kernel reset the connection, and a client
 * still sending its body then loses the answer (it sees EPIPE or ECONNRESET instead). So the rest
 * of the body is read and thrown away, up to `maxBytes`. When the connection is to close after the
 * answer (`Connection: close`), it is half-closed instead: the answer and a FIN go out, and reading
 * goes on until the body ends, the client hangs up, or a linger timeout passes — nginx's lingering
 * close. Past `maxBytes`, reading stops and the connection is destroyed once the answer is out.
 */
export function drainRefusedBody(req: IncomingMessage, res: ServerResponse, maxBytes: number): void {
  const socket = req.socket;
  if (req.complete || !socket || socket.destroyed || res.writableFinished) return;
  const nodeDestroySoon = socket.destroySoon;
  let read = 0;
  let cut = false;
  let closed = false;
  let lingerTimers: NodeJS.Timeout[] = [];

  const stopLingering = (): void => {
    for (const timer of lingerTimers) clearTimeout(timer);
    lingerTimers = [];
  };
  // Node's own close: end the socket, destroy it once everything written is flushed.
  const close = (): void => {
    if (closed) return;
    closed = true;
    stopLingering();
    socket.destroySoon = nodeDestroySoon;
    nodeDestroySoon.call(socket);
  };

  // Node's HTTP server calls destroySoon() once the answer is written and the connection is not
  // kept alive. Its own version would destroy the socket with the body unread.
  socket.destroySoon = () => {
    if (req.complete || cut) {
      close();
      return;
    }
    socket.end();
    const cutOff = (): void => {
      stopLingering();
      socket.destroy();
    };
    lingerTimers = [setTimeout(cutOff, LINGER_IDLE_MS), setTimeout(cutOff, LINGER_MAX_MS)];
    for (const timer of lingerTimers) timer.unref();
  };

  req.on('data', (chunk: Buffer) => {
    read += chunk.length;
    lingerTimers[0]?.refresh();
    if (cut || read <= maxBytes) return;
    cut = true;
    req.pause();
    if (lingerTimers.length > 0) close();
    else {
      // Not answered yet: the answer says the connection ends, and it ends once the answer is out.
      if (!res.headersSent) res.setHeader('Connection', 'close');
      res.once('finish', close);
    }
  });
  req.once('end', () => {
    if (lingerTimers.length > 0) close();
    // The whole body was read before the answer: Node's own close is safe again.
    else if (!closed) socket.destroySoon = nodeDestroySoon;
  });
  socket.once('close', stopLingering);
  req.resume();
}
