import type { IncomingMessage, ServerResponse } from 'node:http';
import { StowageError } from '../../core/errors.js';
import type { Storage } from '../../core/types.js';
import { sendJson } from '../json-response.js';
import { DEFAULT_DRAIN_LIMIT, drainRefusedBody } from '../refused-body.js';
import type { Next } from '../upload/upload-request.js';
import { confirm } from './confirm.js';
import { readJsonObject } from './json-body.js';
import { completeMultipart, createMultipart, multipartOf, partNumbersOf, uploadKeyOf } from './multipart.js';
import {
  type DirectUploadOptions,
  type ResolvedDirectUploadOptions,
  resolveDirectUploadOptions,
} from './options.js';
import { presign } from './presign.js';
import { type Route, routeOf } from './routes.js';

export type DirectUploadMiddleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

/**
 * Browser uploads straight to the backend, for files too big or slow for a
 * 30-second request. Mount it on a path, e.g. app.use('/uploads', directUpload(...)):
 *   POST /uploads/presign  { size?, contentType? } → { uploadKey, upload, maxSize, expiresAt }
 *   POST /uploads/confirm  { uploadKey, sha256?, filename? } → { file }
 * and, for resumable uploads in parts, Companion's S3 routes under /uploads/s3/
 * (routes.ts), so Uppy's @uppy/aws-s3 works with `companionEndpoint: '/uploads'`.
 * authorize(req, { action }) runs first on every one; the hooks run before each answer.
 * Every other request falls through to next().
 */
export function directUpload(storage: Storage, options: DirectUploadOptions): DirectUploadMiddleware {
  const opts = resolveDirectUploadOptions(storage, options);
  return function stowageDirectUpload(req, res, next) {
    const route = routeOf(req);
    if (!route) {
      next();
      return;
    }
    handle(storage, opts, route, req)
      .then((answer) => sendJson(res, 200, answer))
      .catch((err: unknown) => {
        // Refused before the body was read (not JSON, too large): the client must still get the answer.
        drainRefusedBody(req, res, DEFAULT_DRAIN_LIMIT);
        next(err);
      });
  };
}

async function handle(
  storage: Storage,
  opts: ResolvedDirectUploadOptions,
  route: Route,
  req: IncomingMessage,
): Promise<unknown> {
  const body = route.jsonBody
    ? await readJsonObject(req, opts.maxJsonBytes)
    : Object.fromEntries(route.query);
  const key = route.query.get('key') ?? undefined;
  const allowed = await opts.authorize(req, {
    action: route.action,
    body,
    ...(route.uploadId === undefined ? {} : { uploadId: route.uploadId }),
    ...(key === undefined ? {} : { uploadKey: key }),
  });
  if (allowed !== true) throw new StowageError('ACCESS_DENIED', 'you may not upload here');
  switch (route.action) {
    case 'presign': {
      const input = route.companion
        ? { size: numberOrRaw(body.size), contentType: body.type || undefined }
        : body;
      const answer = await presign(storage, opts, input, req);
      await opts.onPresign?.(answer, req);
      if (!route.companion) return answer;
      const { upload } = answer;
      // Companion's shape; `key` is what a signRequest client (Uppy) reports back for confirm.
      return {
        method: upload.method,
        url: upload.url,
        fields: upload.method === 'POST' ? upload.fields : undefined,
        headers: upload.headers,
        key: answer.uploadKey,
        uploadKey: answer.uploadKey,
        expires: opts.expiresIn,
      };
    }
    case 'confirm': {
      const file = await confirm(storage, opts, body, req);
      await opts.onConfirm?.(file, req);
      return { file };
    }
    case 'multipart-create': {
      const metadata = (body.metadata ?? {}) as Record<string, unknown>;
      const grant = await createMultipart(multipartOf(storage), opts, {
        size: body.size ?? metadata.size,
        contentType: body.type ?? body.contentType,
      });
      await opts.onMultipartCreate?.(grant, req);
      return grant;
    }
    case 'multipart-sign': {
      const mp = multipartOf(storage);
      const uploadKey = uploadKeyOf(key, opts);
      const numbers = partNumbersOf(
        route.partNumber ?? route.query.get('partNumbers') ?? undefined,
        mp,
        opts,
      );
      const signed = await mp.signParts(uploadKey, route.uploadId!, numbers, { expiresIn: opts.expiresIn });
      if (route.partNumber !== undefined)
        return { url: signed[0]!.url, headers: signed[0]!.headers, expires: opts.expiresIn };
      return { presignedUrls: Object.fromEntries(signed.map((part) => [part.partNumber, part.url])) };
    }
    case 'multipart-list': {
      const parts = await multipartOf(storage).listParts(uploadKeyOf(key, opts), route.uploadId!);
      return parts.map((part) => ({ PartNumber: part.partNumber, Size: part.size, ETag: part.etag }));
    }
    case 'multipart-complete': {
      const uploadKey = uploadKeyOf(key, opts);
      const { size } = await completeMultipart(multipartOf(storage), opts, uploadKey, route.uploadId!, body);
      // Staged, not published: the client confirms it like any other upload.
      return { location: await storage.url(uploadKey).catch(() => ''), key: uploadKey, uploadKey, size };
    }
    case 'multipart-abort': {
      await multipartOf(storage).abort(uploadKeyOf(key, opts), route.uploadId!);
      return {};
    }
  }
}

function numberOrRaw(value: unknown): unknown {
  return typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;
}
