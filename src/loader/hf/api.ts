import { StowageError } from '../../core/errors.js';
import { hubError, hubRequest } from './hub-http.js';
import type { HfSettings } from './settings.js';
import { apiUrl, type HfRef, isCommitHash } from './url.js';

/** A file as the tree and paths-info APIs list it. */
export interface HubTreeFile {
  path: string;
  size: number;
  /** Git blob id. */
  oid: string;
  /** LFS files: the sha256 (oid) and size of the real file. */
  lfs?: { oid: string; size: number };
}

export interface ApiContext {
  settings: HfSettings;
  signal?: AbortSignal | undefined;
  timeout: number;
}

async function getJson(
  url: string,
  ref: HfRef,
  ctx: ApiContext,
  body?: string,
): Promise<{ json: unknown; next?: string }> {
  const res = await hubRequest(url, ctx.settings, {
    method: body === undefined ? 'GET' : 'POST',
    body,
    signal: ctx.signal,
    timeout: ctx.timeout,
  });
  if (res.status !== 200) throw hubError(res, ref, ctx.settings);
  try {
    const link = String(res.headers.link ?? '');
    const next = /<([^>]+)>;\s*rel="next"/.exec(link)?.[1];
    return { json: JSON.parse(res.body.toString('utf8')), ...(next ? { next } : {}) };
  } catch (cause) {
    throw new StowageError('UNAVAILABLE', `${url}: the hub sent an answer that is not JSON`, {
      cause,
      retryable: true,
    });
  }
}

/** The commit a revision is at (GET /api/{type}s/{repo}/revision/{revision}); a commit hash is its own answer. */
export async function resolveCommit(ref: HfRef, ctx: ApiContext): Promise<string> {
  if (isCommitHash(ref.revision)) return ref.revision;
  const url = apiUrl(ctx.settings.endpoint, ref, 'revision', ref.revision);
  const { json } = await getJson(url, ref, ctx);
  const sha = (json as { sha?: unknown }).sha;
  if (typeof sha !== 'string' || !isCommitHash(sha)) {
    throw new StowageError(
      'NOT_SUPPORTED',
      `${url}: the answer has no commit sha; is HF_ENDPOINT a Hugging Face Hub?`,
    );
  }
  return sha;
}

/** Every file under `dir` at `commit` (GET …/tree/{commit}/{dir}?recursive=true, following rel="next" pages). */
export async function listFiles(
  ref: HfRef,
  commit: string,
  dir: string,
  ctx: ApiContext,
): Promise<HubTreeFile[]> {
  const origin = new URL(ctx.settings.endpoint).origin;
  const files: HubTreeFile[] = [];
  let url: string | undefined = `${apiUrl(ctx.settings.endpoint, ref, 'tree', commit, dir)}?recursive=true`;
  for (let pages = 0; url && pages < 1000; pages++) {
    const page: { json: unknown; next?: string } = await getJson(url, ref, ctx);
    if (!Array.isArray(page.json))
      throw new StowageError('UNAVAILABLE', 'the tree API sent no list', { retryable: true });
    for (const entry of page.json) {
      const file = treeFile(entry);
      if (file) files.push(file);
    }
    url =
      page.next && new URL(page.next, url).origin === origin ? new URL(page.next, url).toString() : undefined;
  }
  return files;
}

/** The listed files among `paths` at `commit` (POST …/paths-info/{commit}). */
export async function pathsInfo(
  ref: HfRef,
  commit: string,
  paths: string[],
  ctx: ApiContext,
): Promise<HubTreeFile[]> {
  const url = apiUrl(ctx.settings.endpoint, ref, 'paths-info', commit);
  const { json } = await getJson(url, ref, ctx, JSON.stringify({ paths, expand: false }));
  if (!Array.isArray(json))
    throw new StowageError('UNAVAILABLE', 'paths-info sent no list', { retryable: true });
  return json.map(treeFile).filter((f): f is HubTreeFile => f !== undefined);
}

function treeFile(entry: unknown): HubTreeFile | undefined {
  const e = entry as {
    type?: unknown;
    path?: unknown;
    size?: unknown;
    oid?: unknown;
    lfs?: { oid?: unknown; size?: unknown };
  };
  if (e?.type !== 'file' || typeof e.path !== 'string' || typeof e.size !== 'number') return undefined;
  const file: HubTreeFile = { path: e.path, size: e.size, oid: String(e.oid ?? '') };
  if (
    e.lfs &&
    typeof e.lfs.oid === 'string' &&
    /^[0-9a-f]{64}$/.test(e.lfs.oid) &&
    typeof e.lfs.size === 'number'
  ) {
    file.lfs = { oid: e.lfs.oid, size: e.lfs.size };
  }
  return file;
}
