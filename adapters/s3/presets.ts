import { StowageError } from '../../src/core/errors.js';

/**
 * What a store is known to do; anything given explicitly in the options wins.
 * Every field that differs from AWS has a reason in the store's docs.
 */
export interface S3Preset {
  /** Human name for messages. */
  label: string;
  region?: string;
  forcePathStyle?: boolean;
  /** The store's one endpoint, used when none is given. */
  endpoint?: string;
  /** Builds the endpoint from the region when none is given. */
  endpointFor?: (region: string) => string;
  /** Message when an endpoint is required and missing. */
  endpointHelp?: string;
  /** The store accepts browser POST uploads (presigned POST policies); else presignUpload() grants a presigned PUT. */
  presignedPost: boolean;
  /**
   * The store answers DeleteObjects (multi-object delete). Without it,
   * deleteMany() sends one DeleteObject per key; a NotImplemented answer
   * switches to that at run time too.
   */
  batchDelete: boolean;
  /**
   * Checksum modes: 'WHEN_REQUIRED' for stores that reject or store the SDK's
   * default aws-chunked CRC trailers (every non-AWS endpoint gets this, see
   * client.ts); undefined keeps the SDK default (AWS).
   */
  checksums?: 'WHEN_REQUIRED';
  /**
   * Multipart part sizes. stowage always uploads equal parts (only the last
   * may be shorter) of at least 5 MiB, at most 10,000 parts, which meets
   * every store here; this says what the store itself demands.
   */
  partRule: string;
  /** Where url() without expiresIn points, or why it needs publicBaseUrl. */
  publicUrl: string;
  /** A cost or behaviour worth knowing before deploying on the store. */
  note?: string;
}

const S3_PART_RULE = '5 MiB to 5 GiB per part (last may be smaller), at most 10,000 parts';
const AWS_PUBLIC = 'https://<bucket>.s3.<region>.amazonaws.com/<key> (or publicBaseUrl)';

/**
 * Known S3-compatible stores. Non-AWS endpoints also get the WHEN_REQUIRED
 * checksum defaults (see client.ts), whatever the preset.
 */
export const S3_PRESETS: Readonly<Record<string, S3Preset>> = {
  aws: {
    label: 'AWS S3',
    presignedPost: true,
    batchDelete: true,
    partRule: S3_PART_RULE,
    publicUrl: AWS_PUBLIC,
  },
  r2: {
    label: 'Cloudflare R2',
    region: 'auto',
    endpointHelp: 'set endpoint=https://<ACCOUNT_ID>.r2.cloudflarestorage.com',
    // R2 has no PostObject: browser uploads get a presigned PUT with the exact size signed.
    presignedPost: false,
    batchDelete: true,
    checksums: 'WHEN_REQUIRED',
    partRule: 'all parts the same size except the last (min 5 MiB, at most 10,000 parts)',
    publicUrl: 'none from the S3 endpoint: set publicBaseUrl to the r2.dev or custom domain of the bucket',
  },
  b2: {
    label: 'Backblaze B2',
    endpointFor: (region) => `https://s3.${region}.backblazeb2.com`,
    endpointHelp: 'set region (e.g. us-west-004) or endpoint=https://s3.<region>.backblazeb2.com',
    // B2's S3 API does not implement browser POST uploads.
    presignedPost: false,
    batchDelete: true,
    checksums: 'WHEN_REQUIRED',
    partRule: S3_PART_RULE,
    publicUrl: 'https://<bucket>.s3.<region>.backblazeb2.com/<key> for a public bucket',
  },
  minio: {
    label: 'MinIO',
    region: 'us-east-1',
    forcePathStyle: true,
    endpointHelp: 'set endpoint=http://<host>:9000',
    presignedPost: true,
    batchDelete: true,
    checksums: 'WHEN_REQUIRED',
    partRule: S3_PART_RULE,
    publicUrl: '<endpoint>/<bucket>/<key> with an anonymous read policy',
  },
  spaces: {
    label: 'DigitalOcean Spaces',
    endpointFor: (region) => `https://${region}.digitaloceanspaces.com`,
    endpointHelp: 'set region (e.g. nyc3) or endpoint=https://<region>.digitaloceanspaces.com',
    presignedPost: true,
    batchDelete: true,
    checksums: 'WHEN_REQUIRED',
    partRule: S3_PART_RULE,
    publicUrl: 'https://<bucket>.<region>.digitaloceanspaces.com/<key> (CDN: publicBaseUrl)',
  },
  tigris: {
    label: 'Tigris',
    region: 'auto',
    endpoint: 'https://fly.storage.tigris.dev',
    // Tigris documents browser POST uploads with SigV4 policies (region "auto").
    presignedPost: true,
    batchDelete: true,
    checksums: 'WHEN_REQUIRED',
    partRule: S3_PART_RULE,
    publicUrl: 'https://<bucket>.fly.storage.tigris.dev/<key> for a public bucket',
  },
  gcs: {
    label: 'Google Cloud Storage (S3 interoperability, HMAC keys)',
    region: 'auto',
    endpoint: 'https://storage.googleapis.com',
    // GCS signs browser POST policies its own way (x-goog-*); not wired here.
    presignedPost: false,
    // GCS's XML API long refused multi-object delete; single deletes always work.
    batchDelete: false,
    checksums: 'WHEN_REQUIRED',
    partRule: S3_PART_RULE,
    publicUrl: 'https://storage.googleapis.com/<bucket>/<key> for publicly readable objects',
  },
  supabase: {
    label: 'Supabase Storage',
    forcePathStyle: true,
    endpointHelp:
      'set endpoint=https://<project_ref>.supabase.co/storage/v1/s3 and region (the project region)',
    // Supabase's S3 protocol does not list PostObject among its endpoints.
    presignedPost: false,
    batchDelete: true,
    checksums: 'WHEN_REQUIRED',
    partRule: S3_PART_RULE,
    publicUrl: 'https://<project_ref>.supabase.co/storage/v1/object/public/<bucket>/<key>: set publicBaseUrl',
  },
  wasabi: {
    label: 'Wasabi',
    endpointFor: (region) => `https://s3.${region}.wasabisys.com`,
    endpointHelp: 'set region (e.g. eu-central-1) or endpoint=https://s3.<region>.wasabisys.com',
    presignedPost: true,
    batchDelete: true,
    checksums: 'WHEN_REQUIRED',
    partRule: S3_PART_RULE,
    publicUrl: 'https://s3.<region>.wasabisys.com/<bucket>/<key> for a public bucket',
    note: 'Wasabi counts egress above the volume stored as excessive: an app that re-downloads its artifacts at every boot (loadArtifacts without a kept cache) can breach that; keep artifacts small or the cache warm',
  },
  scaleway: {
    label: 'Scaleway Object Storage',
    endpointFor: (region) => `https://s3.${region}.scw.cloud`,
    endpointHelp: 'set region (e.g. fr-par) or endpoint=https://s3.<region>.scw.cloud',
    presignedPost: true,
    batchDelete: true,
    checksums: 'WHEN_REQUIRED',
    partRule: S3_PART_RULE,
    publicUrl: 'https://<bucket>.s3.<region>.scw.cloud/<key> for public objects',
  },
  oci: {
    label: 'Oracle Cloud Object Storage (S3 compatibility API)',
    forcePathStyle: true,
    endpointHelp: 'set region and endpoint=https://<namespace>.compat.objectstorage.<region>.oraclecloud.com',
    // The S3 compatibility API lists neither browser POST nor multi-object delete.
    presignedPost: false,
    batchDelete: false,
    checksums: 'WHEN_REQUIRED',
    partRule: S3_PART_RULE,
    publicUrl:
      'none from the compat endpoint: set publicBaseUrl (a pre-authenticated request or public bucket URL)',
  },
  railway: {
    label: 'Railway bucket',
    region: 'auto',
    endpoint: 'https://storage.railway.app',
    // Railway does not document browser POST uploads; presigned GET/PUT are documented.
    presignedPost: false,
    batchDelete: true,
    checksums: 'WHEN_REQUIRED',
    partRule: S3_PART_RULE,
    publicUrl: 'none: Railway buckets are private; use url(key, { expiresIn }) or serve()',
  },
  // Heroku add-ons: plain AWS buckets with credentials in config vars (createStorage() reads them).
  // Only keys under "public/" (Bucketeer: of the bucket; Cloudcube: of the cube) are publicly
  // readable there: url() without expiresIn works for those, others need expiresIn.
  bucketeer: {
    label: 'Bucketeer (Heroku add-on)',
    presignedPost: true,
    batchDelete: true,
    partRule: S3_PART_RULE,
    publicUrl: `${AWS_PUBLIC}, readable under public/ only`,
  },
  cloudcube: {
    label: 'Cloudcube (Heroku add-on)',
    presignedPost: true,
    batchDelete: true,
    partRule: S3_PART_RULE,
    publicUrl: `${AWS_PUBLIC}, readable under <cube>/public/ only`,
  },
};

export function findPreset(name: string | undefined): S3Preset | undefined {
  if (name === undefined) return undefined;
  const preset = S3_PRESETS[name.toLowerCase()];
  if (!preset) {
    throw new StowageError(
      'INVALID_ARGUMENT',
      `unknown S3 preset "${name}"; use one of ${Object.keys(S3_PRESETS).join(', ')}`,
    );
  }
  return preset;
}
