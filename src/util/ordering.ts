/** Compares keys by their UTF-8 bytes: the order S3 lists in, and the one every adapter promises. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Weak ETag-style value from a content digest, quoted as HTTP wants it. */
export function etagFromSha256(sha256: string): string {
  return `"${sha256.slice(0, 32)}"`;
}
