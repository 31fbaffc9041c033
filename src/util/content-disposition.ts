// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point (header injection)
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * `Content-Disposition: attachment` offering `name` (RFC 6266): the exact UTF-8 name in
 * `filename*` and an ASCII fallback in `filename` for clients that do not read it. Control
 * characters go (no header injection); path separators become "_" (a name, never a path); the
 * fallback also replaces `"`, `%` (some browsers percent-decode `filename`) and non-ASCII.
 * The one builder: serve(), S3's presigned GET and every adapter's url({ download }) use it.
 */
export function attachmentDisposition(name: string): string {
  const clean = name.normalize('NFC').replace(CONTROL, '').replace(/[\\/]/g, '_').trim() || 'download';
  const ascii = clean.replace(/[^\x20-\x7e]/g, '_').replace(/["%]/g, '_');
  if (ascii === clean) return `attachment; filename="${ascii}"`;
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeRfc5987(clean)}`;
}

/** The file name a download of `key` offers: the name given, else the key's last segment. */
export function downloadName(download: true | string, key: string): string {
  return download === true ? key.slice(key.lastIndexOf('/') + 1) : download;
}

/** RFC 5987 value-chars: encodeURIComponent leaves ' ( ) * unescaped, which attr-char forbids. */
function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** A serve() URL asking for a download: `?download=1` (the key's name) or `?download=<name>`. */
export function withDownloadParam(url: string, download: boolean | string | undefined): string {
  if (!download) return url;
  return `${url}?download=${download === true ? '1' : encodeURIComponent(download)}`;
}
