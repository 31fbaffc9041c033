/** The AWS SDK packages the S3 adapter loads through importPeer (optional peers of stowage). */
import type { PeerGroup } from '../../src/util/optional-peer.js';

const S3_PACKAGES = ['@aws-sdk/client-s3', '@aws-sdk/s3-request-presigner', '@aws-sdk/s3-presigned-post'];

export const S3_SDK: PeerGroup = {
  feature: 'stowage/s3 (s3:// storage)',
  required: ['@aws-sdk/client-s3'],
  all: S3_PACKAGES,
};
export const S3_PRESIGNER: PeerGroup = {
  feature: 'S3 signed URLs (url() with expiresIn or download)',
  required: ['@aws-sdk/s3-request-presigner'],
  all: ['@aws-sdk/s3-request-presigner'],
};
export const S3_PRESIGNED_POST: PeerGroup = {
  feature: 'S3 browser uploads (presignUpload, directUpload())',
  required: ['@aws-sdk/s3-presigned-post'],
  all: ['@aws-sdk/s3-presigned-post'],
};
