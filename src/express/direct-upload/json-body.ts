import type { IncomingMessage } from 'node:http';
import { isStowageError, StowageError } from '../../core/errors.js';

/**
 * The request's JSON object: from a body parser that already ran
 * (express.json()), else read here up to `limit` bytes.
 */
export async function readJsonObject(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const withBody = req as IncomingMessage & { body?: unknown; _body?: boolean };
  // body-parser marks what it parsed with _body; it also leaves {} on requests it skipped, unread.
  if (withBody.body !== undefined && (withBody._body === true || req.readableEnded)) {
    return asObject(withBody.body);
  }
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new StowageError('INVALID_ARGUMENT', 'send a JSON body with content-type: application/json');
  }
  const text = await readText(req, limit);
  try {
    return asObject(JSON.parse(text));
  } catch (err) {
    if (isStowageError(err)) throw err;
    throw new StowageError('INVALID_ARGUMENT', 'the request body is not valid JSON');
  }
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StowageError('INVALID_ARGUMENT', 'the request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/**
 * The body as text, refused past `limit` bytes. On refusal the request is left unread, not
 * destroyed: the caller drains it (drainRefusedBody) so the client receives the answer.
 */
function readText(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const settle = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      chunks.push(chunk);
      if (length <= limit) return;
      settle();
      req.pause();
      reject(new StowageError('TOO_LARGE', `JSON body is larger than ${limit} bytes`));
    };
    const onEnd = (): void => {
      settle();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onGone = (err?: Error): void => {
      settle();
      reject(
        new StowageError('ABORTED', 'the client closed the connection before its body arrived', {
          cause: err,
        }),
      );
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onGone);
    req.once('close', onGone);
  });
}
