import type { PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';

const SHA256_HEADER = 'x-amz-content-sha256';

/** Headers S3 checks against the body it receives: a corrupted body is refused. */
const hasChecksum = (headers: Record<string, string>): boolean =>
  Object.keys(headers).some((name) => {
    const lower = name.toLowerCase();
    return lower === 'content-md5' || lower.startsWith('x-amz-checksum-');
  });

/**
 * Over HTTPS, a body that already carries a checksum S3 verifies (Content-MD5
 * or x-amz-checksum-*) is signed as UNSIGNED-PAYLOAD instead of being hashed a
 * second time for SigV4: the rule aws-cli (botocore) follows. TLS protects the
 * body in transit and S3 refuses it if the checksum does not match; the sha256
 * pass saved is about a second of CPU per GiB. Plain HTTP, or a body without a
 * checksum, keeps the signed payload hash.
 */
export function unsignedPayloadOverTls<C extends PutObjectCommand | UploadPartCommand>(command: C): C {
  // The middleware reads only the HTTP request, the same for both commands: one stack type serves.
  (command.middlewareStack as UploadPartCommand['middlewareStack']).add(
    (next) => async (args) => {
      const request = args.request as { protocol?: string; headers?: Record<string, string> };
      const headers = request.headers;
      if (request.protocol === 'https:' && headers && hasChecksum(headers) && !(SHA256_HEADER in headers))
        headers[SHA256_HEADER] = 'UNSIGNED-PAYLOAD';
      return next(args);
    },
    // Last of the build step: after the checksum header is set (build, normal priority), before signing (finalizeRequest).
    { step: 'build', priority: 'low', name: 'stowageUnsignedPayloadOverTls' },
  );
  return command;
}
