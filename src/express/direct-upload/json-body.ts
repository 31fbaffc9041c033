import type { IncomingMessage } from 'node:http';
import { StowageError } from '../../errors.js';

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
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > limit) throw new StowageError('TOO_LARGE', `JSON body is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  try {
    return asObject(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  } catch (err) {
    if (err instanceof StowageError) throw err;
    throw new StowageError('INVALID_ARGUMENT', 'the request body is not valid JSON');
  }
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StowageError('INVALID_ARGUMENT', 'the request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
