import { StowageError } from '../../src/errors.js';

/** What a preset adjusts; anything given explicitly in the options wins. */
export interface S3Preset {
  /** Human name for messages. */
  label: string;
  region?: string;
  forcePathStyle?: boolean;
  /** Builds the endpoint from the region when none is given. */
  endpointFor?: (region: string) => string;
  /** Message when an endpoint is required and missing. */
  endpointHelp?: string;
  /** The store accepts browser POST uploads (presigned POST policies). */
  presignedPost: boolean;
}

/**
 * Known S3-compatible stores. Non-AWS endpoints also get the WHEN_REQUIRED
 * checksum defaults (see client.ts), whatever the preset.
 */
export const S3_PRESETS: Readonly<Record<string, S3Preset>> = {
  aws: { label: 'AWS S3', presignedPost: true },
  r2: {
    label: 'Cloudflare R2',
    region: 'auto',
    endpointHelp: 'set endpoint=https://<ACCOUNT_ID>.r2.cloudflarestorage.com',
    // R2 has no PostObject: browser uploads need a presigned PUT, which cannot cap the size.
    presignedPost: false,
  },
  b2: {
    label: 'Backblaze B2',
    endpointFor: (region) => `https://s3.${region}.backblazeb2.com`,
    endpointHelp: 'set region (e.g. us-west-004) or endpoint=https://s3.<region>.backblazeb2.com',
    // B2's S3 API does not implement browser POST uploads.
    presignedPost: false,
  },
  minio: {
    label: 'MinIO',
    region: 'us-east-1',
    forcePathStyle: true,
    endpointHelp: 'set endpoint=http://<host>:9000',
    presignedPost: true,
  },
  spaces: {
    label: 'DigitalOcean Spaces',
    endpointFor: (region) => `https://${region}.digitaloceanspaces.com`,
    endpointHelp: 'set region (e.g. nyc3) or endpoint=https://<region>.digitaloceanspaces.com',
    presignedPost: true,
  },
  // Heroku add-ons: plain AWS buckets with credentials in config vars (createStorage() reads them).
  // Only keys under "public/" (Bucketeer: of the bucket; Cloudcube: of the cube) are publicly
  // readable there: url() without expiresIn works for those, others need expiresIn.
  bucketeer: { label: 'Bucketeer (Heroku add-on)', presignedPost: true },
  cloudcube: { label: 'Cloudcube (Heroku add-on)', presignedPost: true },
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
