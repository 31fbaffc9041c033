import type { RecordedRequest, S3TestServer } from '../servers/s3-server.js';

/** The S3 API call a recorded request was (from method, query and copy-source header). */
export function s3CallName(r: RecordedRequest): string {
  const q = new Set(r.query);
  if (r.method === 'POST' && q.has('uploads')) return 'CreateMultipartUpload';
  if (r.method === 'PUT' && q.has('uploadId'))
    return r.headers['x-amz-copy-source'] ? 'UploadPartCopy' : 'UploadPart';
  if (r.method === 'POST' && q.has('uploadId')) return 'CompleteMultipartUpload';
  if (r.method === 'DELETE' && q.has('uploadId')) return 'AbortMultipartUpload';
  if (r.method === 'PUT') return r.headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject';
  return r.method;
}

/** The calls the server saw since start or its last clearRequests(), in order. */
export async function s3Calls(server: S3TestServer): Promise<string[]> {
  return (await server.requests()).map(s3CallName);
}
