import type { IncomingMessage, ServerResponse } from 'node:http';
import { StowageError } from '../../errors.js';
import type { Storage } from '../../types.js';
import { sendJson } from '../json-response.js';
import { DEFAULT_DRAIN_LIMIT, drainRefusedBody } from '../refused-body.js';
import type { Next } from '../upload/upload-request.js';
import { confirm } from './confirm.js';
import { readJsonObject } from './json-body.js';
import { type DirectUploadAction, type DirectUploadOptions, resolveDirectUploadOptions } from './options.js';
import { presign } from './presign.js';

export type DirectUploadMiddleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

/**
 * Browser uploads straight to the backend, for files too big or slow for a
 * 30-second request. Mount it on a path, e.g. app.use('/uploads', directUpload(...)):
 *   POST /uploads/presign  { size?, contentType? } → { uploadKey, upload, maxSize, expiresAt }
 *   POST /uploads/confirm  { uploadKey, sha256?, filename? } → { file }
 * authorize(req) runs first on both; onPresign/onConfirm run before each answer.
 * Every other request falls through to next().
 */
export function directUpload(storage: Storage, options: DirectUploadOptions): DirectUploadMiddleware {
  const opts = resolveDirectUploadOptions(storage, options);
  return function stowageDirectUpload(req, res, next) {
    const action = actionOf(req);
    if (!action) {
      next();
      return;
    }
    handle(action, req, res).catch((err: unknown) => {
      // Refused before the body was read (not JSON, too large): the client must still get the answer.
      drainRefusedBody(req, res, DEFAULT_DRAIN_LIMIT);
      next(err);
    });
  };

  async function handle(
    action: DirectUploadAction,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const body = await readJsonObject(req, opts.maxJsonBytes);
    const allowed = await opts.authorize(req, { action, body });
    if (allowed !== true) throw new StowageError('ACCESS_DENIED', 'you may not upload here');
    if (action === 'presign') {
      const answer = await presign(storage, opts, body, req);
      await opts.onPresign?.(answer, req);
      sendJson(res, 200, answer);
      return;
    }
    const file = await confirm(storage, opts, body, req);
    await opts.onConfirm?.(file, req);
    sendJson(res, 200, { file });
  }
}

function actionOf(req: IncomingMessage): DirectUploadAction | undefined {
  if (req.method !== 'POST') return undefined;
  const path = (req.url ?? '').split('?')[0]!.replace(/\/+$/, '');
  if (path === '/presign') return 'presign';
  if (path === '/confirm') return 'confirm';
  return undefined;
}
