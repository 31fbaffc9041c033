export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Options of S3Storage that configuration can set. */
export interface S3Config {
  bucket: string;
  prefix?: string;
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Omitted: the AWS SDK's default chain (env, profile, instance role). */
  credentials?: S3Credentials;
  /** Public or CDN base URL for url() without expiresIn. */
  publicBaseUrl?: string;
  /** Known S3-compatible stores: adjusts defaults (see the S3 section of the README). */
  preset?: string;
}
