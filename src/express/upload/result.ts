import type { IncomingMessage } from 'node:http';

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

/** The result upload() left on a request, or undefined when it did not run. */
export function uploadResult(req: IncomingMessage): UploadResult | undefined {
  return (req as IncomingMessage & { stowage?: UploadResult }).stowage;
}
