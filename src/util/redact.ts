/**
 * Secret scrubbing for every message, log line and stack stowage produces.
 * Adapters register the secrets they hold; URL credentials and signature
 * query parameters are masked by pattern, so unknown secrets in URLs are
 * covered too.
 */
const secrets = new Set<string>();
const MASK = '***';

/** Remember a secret so that it is masked wherever it would appear. Short values are ignored (too noisy). */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value === 'string' && value.length >= 6) {
    secrets.add(value);
    const encoded = encodeURIComponent(value);
    if (encoded !== value) {
      secrets.add(encoded);
      // Percent-encoding is case-insensitive: %2f is as common as %2F.
      secrets.add(encoded.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()));
    }
  }
}

// The password runs to the last "@" before the host, as URL parsers read it: "s3://KEY:p@ss@bucket".
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/[^/\s:@]*):([^\s/]+)@/gi;
const SIGNED_PARAMS =
  /([?&](?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|signature|api_secret|AWSAccessKeyId|sig)=)[^&\s"']+/g;
const HEADER_SECRETS = /((?:authorization|x-amz-security-token)["']?\s*[:=]\s*["']?)[^"'\n,}]+/gi;

export function redact(text: string): string {
  if (!text) return text;
  let out = text;
  // Known secrets first, whole: a pattern below could otherwise cut one in two and leave a piece.
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  return out
    .replace(URL_USERINFO, `$1:${MASK}@`)
    .replace(SIGNED_PARAMS, `$1${MASK}`)
    .replace(HEADER_SECRETS, `$1${MASK}`);
}

/** A URL safe to print: no password, no signature. */
export function redactUrl(url: string | URL): string {
  return redact(String(url));
}
