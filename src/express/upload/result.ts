import type { IncomingMessage } from 'node:http';
import { StowageError } from '../../core/errors.js';

/** One stored file, as upload() reports it. */
export interface UploadedFile {
  /** Form field the file came in. */
  field: string;
  /** Final key in storage. */
  key: string;
  size: number;
  /** Hex sha256 of the stored bytes, computed while streaming. */
  sha256: string;
  /** Sniffed from the content ("application/octet-stream" when unrecognised). */
  contentType: string;
  /** The client's file name, cleaned (no path, no control characters). Display only. */
  originalName: string;
  /** storage.url(key), when the backend has one. */
  url: string | undefined;
}

export interface UploadResult {
  files: UploadedFile[];
  /** Text fields; a name sent several times becomes an array. */
  fields: Record<string, string | string[]>;
}

declare global {
  namespace Express {
    interface Request {
      /** Set by stowage's upload() middleware. */
      stowage?: UploadResult;
    }
  }
}

/**
 * The result upload() left on this request, typed for strict TypeScript (where `req.stowage` is
 * optional, since most routes have no upload). Throws INTERNAL when upload() did not run before
 * the handler asking: a route wired without it.
 */
export function uploadResult(req: IncomingMessage): UploadResult {
  const result = (req as IncomingMessage & { stowage?: UploadResult }).stowage;
  if (!result) {
    throw new StowageError(
      'INTERNAL',
      'uploadResult(req): upload() did not run on this request; mount it before this handler',
    );
  }
  return result;
}
