import { isStowageError, StowageError } from '../../core/errors.js';
import { HttpRemote } from '../http-remote.js';
import type { ResolvedLoaderOptions } from '../options.js';
import type { Remote, RemoteBody, RemoteMeta } from '../remote.js';
import { hubError, hubRequest } from './hub-http.js';
import { type HfSettings, hfSettings } from './settings.js';
import { formatHfUrl, type HfRef, isCommitHash, isGlob, parseHfUrl, repoPage, resolveUrl } from './url.js';

/**
 * A file in a Hugging Face Hub repo. probe() asks the hub (HEAD on
 * resolve/<revision>/<path>) which commit the revision is at, the file's
 * size and, for LFS files, its sha256 (X-Linked-Size, X-Linked-Etag), and
 * where the bytes are (the 302 to the CDN). Ranges are then read straight
 * from the CDN, pinned to the resolved commit; the token goes to the hub's
 * host only, never to the CDN.
 */
export class HfRemote implements Remote {
  readonly label: string;
  readonly identity: string;
  /** A commit-pinned file never changes: a cached ref of it needs no probe. */
  readonly immutable: boolean;
  /** The commit the last probe resolved the revision to. */
  commit: string | undefined;
  private data: HttpRemote | undefined;

  constructor(
    readonly ref: HfRef,
    private readonly settings: HfSettings,
    private readonly stallTimeout: number,
  ) {
    this.label = formatHfUrl(ref);
    this.identity = `hf:${settings.endpoint}/${ref.type}/${ref.repo}@${ref.revision}/${ref.path}`;
    this.immutable = isCommitHash(ref.revision);
  }

  async probe(signal?: AbortSignal): Promise<RemoteMeta> {
    const res = await hubRequest(resolveUrl(this.settings.endpoint, this.ref), this.settings, {
      method: 'HEAD',
      signal,
      timeout: this.stallTimeout,
    });
    const redirected = res.status >= 300 && res.status < 400;
    if (res.status >= 400 || (redirected && !res.headers.location))
      throw hubError(res, this.ref, this.settings);
    const commit = header(res.headers['x-repo-commit']);
    if (!commit || !isCommitHash(commit)) {
      throw new StowageError(
        'NOT_SUPPORTED',
        `${this.label}: the answer of ${this.settings.endpoint} has no X-Repo-Commit; is HF_ENDPOINT a Hugging Face Hub?`,
      );
    }
    const linkedEtag = header(res.headers['x-linked-etag']);
    const etag = linkedEtag ?? header(res.headers.etag);
    const size = Number(
      header(res.headers['x-linked-size']) ?? (redirected ? undefined : res.headers['content-length']),
    );
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new StowageError('UNAVAILABLE', `${this.label}: the hub sent no usable size`, {
        retryable: true,
      });
    }
    this.commit = commit;
    const pinned = resolveUrl(this.settings.endpoint, { ...this.ref, revision: commit });
    this.data = new HttpRemote(pinned, {
      headers: this.settings.token ? { Authorization: `Bearer ${this.settings.token}` } : undefined,
      stallTimeout: this.stallTimeout,
      redirectedTo: redirected ? header(res.headers.location) : undefined,
    });
    const meta: RemoteMeta = { size, acceptsRanges: true };
    if (etag) meta.etag = etag;
    // An LFS file's linked ETag is its sha256; a plain git file's is a git blob id (hashed while streaming instead).
    const sha256 = linkedEtag?.replace(/^W\//, '').replace(/"/g, '').toLowerCase();
    if (sha256 && /^[0-9a-f]{64}$/.test(sha256)) meta.sha256 = sha256;
    return meta;
  }

  async open(
    range: { start: number; end: number } | undefined,
    pin: RemoteMeta,
    signal?: AbortSignal,
  ): Promise<RemoteBody> {
    if (!this.data) await this.probe(signal);
    try {
      // Pinned by commit and checked by sha256: the CDN's own ETags need not match the hub's.
      return await (this.data as HttpRemote).open(
        range,
        { size: pin.size, acceptsRanges: pin.acceptsRanges },
        signal,
      );
    } catch (err) {
      if (isStowageError(err, 'ACCESS_DENIED')) {
        throw new StowageError(
          'ACCESS_DENIED',
          `${this.label}: download refused; set HF_TOKEN (or options.hfToken) to a token that can read ${this.ref.repo}, and accept its terms on ${repoPage(this.settings.endpoint, this.ref)} if it is gated`,
          { cause: err },
        );
      }
      throw err;
    }
  }
}

function header(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v ? v : undefined;
}

/** The Remote for an hf:// source (one file: globs go through loadArtifacts({ sources })). */
export function hfRemote(source: string, options: ResolvedLoaderOptions): HfRemote {
  const ref = parseHfUrl(source);
  if (isGlob(ref.path)) {
    throw new StowageError(
      'INVALID_ARGUMENT',
      `${source} names several files; loadModel() takes one: use loadArtifacts({ sources: [...] }) for a glob`,
    );
  }
  return new HfRemote(ref, hfSettings(options), options.stallTimeout);
}
