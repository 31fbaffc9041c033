import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A Hugging Face Hub emulator on loopback: the endpoints and headers the
 * official clients use (huggingface_hub's file_download.py and
 * @huggingface/hub's download-file-to-cache-dir / paths-info):
 *
 * - HEAD/GET /{models: ''|datasets/|spaces/}{org}/{name}/resolve/{revision}/{path}
 *   with X-Repo-Commit, ETag, and for LFS files a 302 to a CDN server on
 *   another host and port, carrying X-Linked-Etag (the sha256) and
 *   X-Linked-Size. Small (non-LFS) files are served directly, ETag = git blob oid.
 * - GET /api/{models|datasets|spaces}/{org}/{name}/revision/{revision} (sha, siblings)
 * - GET /api/…/tree/{revision}[/{path}]?recursive=…  and  POST /api/…/paths-info/{revision}
 * - 401 (X-Error-Code: GatedRepo) for gated repos without the token, 404 with
 *   X-Error-Code RepoNotFound / RevisionNotFound / EntryNotFound
 * - programmable failures (429 + Retry-After) and a request log of both hosts.
 */
export type RepoType = 'model' | 'dataset' | 'space';

export interface HubFileSpec {
  path: string;
  data: Buffer;
  /** Stored with Git LFS (served from the CDN). Default: true for files of 1 KiB and more. */
  lfs?: boolean;
}

/** An LFS file streamed from disk, for sizes a Buffer should not hold (the 1 GiB benchmark). */
export interface HubDiskFileSpec {
  path: string;
  file: string;
  size: number;
  sha256: string;
}

/** What the CDN sends: bytes in memory, or a file read per request. */
type Body = Buffer | { file: string; size: number };

interface StoredFile {
  path: string;
  data: Body;
  size: number;
  lfs: boolean;
  sha256: string;
  gitOid: string;
}

interface Repo {
  type: RepoType;
  id: string;
  gated: boolean;
  refs: Map<string, string>;
  commits: Map<string, Map<string, StoredFile>>;
}

export interface LoggedRequest {
  server: 'hub' | 'cdn';
  method: string;
  host: string;
  /** Path and query as sent. */
  url: string;
  headers: http.IncomingHttpHeaders;
  status: number;
  at: number;
}

export interface HubFailure {
  /** Requests still to fail. */
  count: number;
  status: number;
  /** Seconds, sent as Retry-After. */
  retryAfter?: number;
  /** Which server fails (default 'hub'). */
  on?: 'hub' | 'cdn';
}

export interface HfHubEmulator {
  /** The hub's base URL (what HF_ENDPOINT is set to). */
  url: string;
  /** The CDN's base URL: another host (127.0.0.2 where it can bind) and another port. */
  cdnUrl: string;
  /** The one token that opens gated repos. */
  token: string;
  log: LoggedRequest[];
  /** Creates a repo with one commit on `main`; returns the commit. */
  addRepo(
    id: string,
    files: (HubFileSpec | HubDiskFileSpec)[],
    opts?: { type?: RepoType; gated?: boolean },
  ): string;
  /** A new commit on `branch` (default main): the previous tree with `files` replaced or added. */
  commit(id: string, files: HubFileSpec[], opts?: { type?: RepoType; branch?: string }): string;
  /** Points a ref (branch, tag, refs/pr/N) at a commit. */
  setRef(id: string, ref: string, commit: string, type?: RepoType): void;
  /** The CDN serves these bytes for the file instead of the real ones (X-Linked-Etag stays the real sha256). */
  corrupt(sha256: string, bytes: Buffer): void;
  fail(failure: HubFailure): void;
  /** Redirects name this base instead of cdnUrl (a fault proxy in front of the CDN). */
  redirectTo(base: string): void;
  resetLog(): void;
  stop(): Promise<void>;
}

const LFS_THRESHOLD = 1024;

function sha1(data: Buffer | string): string {
  return createHash('sha1').update(data).digest('hex');
}

function gitBlobOid(data: Buffer): string {
  return sha1(Buffer.concat([Buffer.from(`blob ${data.length}\0`), data]));
}

function lfsPointer(sha256: string, size: number): Buffer {
  return Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`);
}

function store(spec: HubFileSpec | HubDiskFileSpec): StoredFile {
  if ('file' in spec) {
    const { path, file, size, sha256 } = spec;
    return {
      path,
      data: { file, size },
      size,
      lfs: true,
      sha256,
      gitOid: gitBlobOid(lfsPointer(sha256, size)),
    };
  }
  const lfs = spec.lfs ?? spec.data.length >= LFS_THRESHOLD;
  const sha256 = createHash('sha256').update(spec.data).digest('hex');
  const gitOid = gitBlobOid(lfs ? lfsPointer(sha256, spec.data.length) : spec.data);
  return { path: spec.path, data: spec.data, size: spec.data.length, lfs, sha256, gitOid };
}

export async function startHfHub(): Promise<HfHubEmulator> {
  const repos = new Map<string, Repo>();
  const blobs = new Map<string, Body>();
  const corrupted = new Map<string, Buffer>();
  const log: LoggedRequest[] = [];
  const failures: HubFailure[] = [];
  const token = `hf_${randomBytes(16).toString('hex')}`;
  let commits = 0;

  const repoKey = (type: RepoType, id: string) => `${type}:${id}`;
  const getRepo = (id: string, type: RepoType = 'model') => {
    const repo = repos.get(repoKey(type, id));
    if (!repo) throw new Error(`no ${type} repo ${id}`);
    return repo;
  };
  const newCommit = (repo: Repo, tree: Map<string, StoredFile>) => {
    const sha = sha1(`${repo.id}:${++commits}:${randomBytes(8).toString('hex')}`);
    repo.commits.set(sha, tree);
    for (const f of tree.values()) if (f.lfs) blobs.set(f.sha256, f.data);
    return sha;
  };

  const hub = http.createServer((req, res) => {
    const at = Date.now();
    res.on('finish', () =>
      log.push({
        server: 'hub',
        method: req.method ?? '',
        host: req.headers.host ?? '',
        url: req.url ?? '',
        headers: req.headers,
        status: res.statusCode,
        at,
      }),
    );
    if (injected('hub', res)) return;
    readBody(req)
      .then((body) => routeHub(req, res, body))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
  const cdn = http.createServer((req, res) => {
    const at = Date.now();
    res.on('finish', () =>
      log.push({
        server: 'cdn',
        method: req.method ?? '',
        host: req.headers.host ?? '',
        url: req.url ?? '',
        headers: req.headers,
        status: res.statusCode,
        at,
      }),
    );
    res.on('close', () => {
      if (!res.writableFinished)
        log.push({
          server: 'cdn',
          method: req.method ?? '',
          host: req.headers.host ?? '',
          url: req.url ?? '',
          headers: req.headers,
          status: res.statusCode,
          at,
        });
    });
    if (injected('cdn', res)) return;
    routeCdn(req, res);
  });

  function injected(server: 'hub' | 'cdn', res: http.ServerResponse): boolean {
    const failure = failures.find((f) => (f.on ?? 'hub') === server && f.count > 0);
    if (!failure) return false;
    failure.count--;
    const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'application/json' };
    if (failure.retryAfter !== undefined) headers['Retry-After'] = String(failure.retryAfter);
    res.writeHead(failure.status, headers).end(JSON.stringify({ error: 'injected failure' }));
    return true;
  }

  function routeHub(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): undefined {
    const url = new URL(req.url ?? '/', 'http://hub');
    const parts = url.pathname.split('/').slice(1);
    if (parts[0] === 'api') {
      const type = ({ models: 'model', datasets: 'dataset', spaces: 'space' } as const)[parts[1] as 'models'];
      const [org, name, action, rev, ...rest] = parts.slice(2);
      if (!type || !org || !name || !action || !rev) return notFound(res, 'RepoNotFound', 'no such API');
      const found = lookup(req, res, type, `${org}/${name}`, decodeURIComponent(rev));
      if (!found) return;
      const { repo, commit, tree } = found;
      const json = (value: unknown): undefined => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'X-Repo-Commit': commit });
        res.end(JSON.stringify(value));
        return undefined;
      };
      if (action === 'revision' && req.method === 'GET') {
        return json({
          id: repo.id,
          sha: commit,
          private: repo.gated,
          gated: repo.gated ? 'auto' : false,
          siblings: [...tree.keys()].sort().map((rfilename) => ({ rfilename })),
        });
      }
      if (action === 'tree' && req.method === 'GET') {
        const dir = rest.map(decodeURIComponent).join('/').replace(/\/+$/, '');
        const recursive = ['1', 'true', 'True'].includes(url.searchParams.get('recursive') ?? '');
        return json(listTree(tree, dir, recursive));
      }
      if (action === 'paths-info' && req.method === 'POST') {
        const { paths, expand } = parsePathsInfo(req, body);
        const out = paths
          .map((p) => tree.get(p))
          .filter((f): f is StoredFile => f !== undefined)
          .map((f) => ({
            ...entryOf(f),
            ...(expand
              ? { lastCommit: { id: commit, title: 'emulated commit', date: new Date().toISOString() } }
              : {}),
          }));
        return json(out);
      }
      return notFound(res, 'RepoNotFound', 'no such API');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const type: RepoType = parts[0] === 'datasets' ? 'dataset' : parts[0] === 'spaces' ? 'space' : 'model';
    const [org, name, action, rev, ...rest] = type === 'model' ? parts : parts.slice(1);
    if (!org || !name || action !== 'resolve' || !rev || rest.length === 0) {
      return notFound(res, 'RepoNotFound', 'Repository not found');
    }
    const found = lookup(req, res, type, `${org}/${name}`, decodeURIComponent(rev));
    if (!found) return;
    const path = rest.map(decodeURIComponent).join('/');
    const file = found.tree.get(path);
    if (!file) {
      res.setHeader('X-Repo-Commit', found.commit);
      return notFound(res, 'EntryNotFound', `${path} does not exist on "${rev}"`);
    }
    const headers: http.OutgoingHttpHeaders = {
      'X-Repo-Commit': found.commit,
      'Accept-Ranges': 'bytes',
      'Access-Control-Expose-Headers': 'X-Repo-Commit,X-Linked-Etag,X-Linked-Size,ETag,Content-Range',
    };
    if (file.lfs) {
      // The sha256 and size of the real file, on the redirect itself (clients do not follow it for HEAD).
      const expires = Math.floor(Date.now() / 1000) + 3600;
      const signature = sha1(`${file.sha256}:${expires}:${token}`);
      res.writeHead(302, {
        ...headers,
        ETag: `"${file.sha256}"`,
        'X-Linked-Etag': `"${file.sha256}"`,
        'X-Linked-Size': String(file.size),
        Location: `${locationBase}/repos/${sha1(found.repo.id).slice(0, 8)}/${file.sha256}?response-content-disposition=attachment&Expires=${expires}&Signature=${signature}`,
        'Content-Length': 0,
      });
      res.end();
      return;
    }
    sendBytes(req, res, file.data as Buffer, { ...headers, ETag: `"${file.gitOid}"` });
  }

  function routeCdn(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://cdn');
    const sha = /^\/repos\/[0-9a-f]{8}\/([0-9a-f]{64})$/.exec(url.pathname)?.[1];
    const expires = Number(url.searchParams.get('Expires'));
    const valid =
      sha !== undefined &&
      url.searchParams.get('Signature') === sha1(`${sha}:${expires}:${token}`) &&
      expires * 1000 > Date.now();
    const data = sha ? blobs.get(sha) : undefined;
    if (!valid || !data || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res
        .writeHead(403, { 'Content-Type': 'application/xml' })
        .end('<Error><Code>AccessDenied</Code></Error>');
      return;
    }
    sendBytes(req, res, corrupted.get(sha) ?? data, { ETag: `"${sha}"`, 'Accept-Ranges': 'bytes' });
  }

  /** Repo, access and revision checks; answers the error itself and returns undefined on failure. */
  function lookup(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    type: RepoType,
    id: string,
    revision: string,
  ): { repo: Repo; commit: string; tree: Map<string, StoredFile> } | undefined {
    const repo = repos.get(repoKey(type, id));
    if (!repo) {
      notFound(res, 'RepoNotFound', `Repository Not Found for url: ${req.url}`);
      return undefined;
    }
    if (repo.gated && req.headers.authorization !== `Bearer ${token}`) {
      res
        .writeHead(401, {
          'Content-Type': 'application/json',
          'X-Error-Code': 'GatedRepo',
          'X-Error-Message': `Access to model ${id} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
        })
        .end(JSON.stringify({ error: `Access to model ${id} is restricted.` }));
      return undefined;
    }
    const commit =
      /^[0-9a-f]{40}$/.test(revision) && repo.commits.has(revision) ? revision : repo.refs.get(revision);
    const tree = commit ? repo.commits.get(commit) : undefined;
    if (!commit || !tree) {
      notFound(res, 'RevisionNotFound', `Invalid rev id: ${revision}`);
      return undefined;
    }
    return { repo, commit, tree };
  }

  await listen(hub, '127.0.0.1');
  const cdnHost = await listen(cdn, '127.0.0.2').catch(() => listen(cdn, '127.0.0.1'));
  const url = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
  const cdnUrl = `http://${cdnHost}:${(cdn.address() as AddressInfo).port}`;
  let locationBase = cdnUrl;

  return {
    url,
    cdnUrl,
    token,
    log,
    addRepo(id, files, opts = {}) {
      const type = opts.type ?? 'model';
      const repo: Repo = { type, id, gated: opts.gated ?? false, refs: new Map(), commits: new Map() };
      repos.set(repoKey(type, id), repo);
      const sha = newCommit(repo, new Map(files.map((f) => [f.path, store(f)])));
      repo.refs.set('main', sha);
      return sha;
    },
    commit(id, files, opts = {}) {
      const repo = getRepo(id, opts.type);
      const branch = opts.branch ?? 'main';
      const base = repo.commits.get(repo.refs.get(branch) ?? repo.refs.get('main') ?? '') ?? new Map();
      const tree = new Map(base);
      for (const f of files) tree.set(f.path, store(f));
      const sha = newCommit(repo, tree);
      repo.refs.set(branch, sha);
      return sha;
    },
    setRef(id, ref, commit, type) {
      getRepo(id, type).refs.set(ref, commit);
    },
    corrupt(sha256, bytes) {
      corrupted.set(sha256, bytes);
    },
    fail(failure) {
      failures.push({ ...failure });
    },
    redirectTo(base) {
      locationBase = base;
    },
    resetLog() {
      log.length = 0;
    },
    stop: async () => {
      await Promise.all([close(hub), close(cdn)]);
    },
  };
}

function entryOf(f: StoredFile) {
  return {
    type: 'file',
    oid: f.gitOid,
    size: f.size,
    path: f.path,
    ...(f.lfs
      ? {
          lfs: {
            oid: f.sha256,
            size: f.size,
            pointerSize: lfsPointer(f.sha256, f.size).length,
          },
        }
      : {}),
  };
}

/** The tree API: files and directories under `dir`, children only unless recursive. */
function listTree(tree: Map<string, StoredFile>, dir: string, recursive: boolean) {
  const prefix = dir ? `${dir}/` : '';
  const out: unknown[] = [];
  const dirs = new Set<string>();
  for (const f of [...tree.values()].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    if (!f.path.startsWith(prefix)) continue;
    const rest = f.path.slice(prefix.length).split('/');
    for (let i = 1; i < rest.length; i++) {
      if (!recursive && i > 1) break;
      const d = prefix + rest.slice(0, i).join('/');
      if (!dirs.has(d)) {
        dirs.add(d);
        out.push({ type: 'directory', oid: sha1(d), size: 0, path: d });
      }
    }
    if (recursive || rest.length === 1) out.push(entryOf(f));
  }
  return out;
}

/** paths-info takes JSON (@huggingface/hub) or a form (huggingface_hub). */
function parsePathsInfo(req: http.IncomingMessage, body: Buffer): { paths: string[]; expand: boolean } {
  const text = body.toString('utf8');
  if (String(req.headers['content-type'] ?? '').includes('application/json')) {
    const parsed = JSON.parse(text || '{}') as { paths?: string[] | string; expand?: boolean };
    const paths = Array.isArray(parsed.paths) ? parsed.paths : parsed.paths ? [parsed.paths] : [];
    return { paths, expand: parsed.expand === true };
  }
  const form = new URLSearchParams(text);
  return { paths: form.getAll('paths'), expand: ['1', 'true', 'True'].includes(form.get('expand') ?? '') };
}

function notFound(res: http.ServerResponse, code: string, message: string): undefined {
  res
    .writeHead(404, { 'Content-Type': 'application/json', 'X-Error-Code': code, 'X-Error-Message': message })
    .end(JSON.stringify({ error: message }));
}

/** 200 or 206 for one byte range; HEAD gets the headers only. A file is streamed, never read whole. */
function sendBytes(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  data: Body,
  headers: http.OutgoingHttpHeaders,
): void {
  const size = Buffer.isBuffer(data) ? data.length : data.size;
  const m = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? '').trim());
  let start = 0;
  let end = size - 1;
  let partial = false;
  if (m && (m[1] !== '' || m[2] !== '')) {
    if (m[1] === '') start = Math.max(0, size - Number(m[2]));
    else {
      start = Number(m[1]);
      if (m[2] !== '') end = Math.min(Number(m[2]), size - 1);
    }
    if (start >= size || end < start) {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}` }).end();
      return;
    }
    partial = true;
  }
  res.writeHead(partial ? 206 : 200, {
    ...headers,
    'Content-Type': 'application/octet-stream',
    'Content-Length': end - start + 1,
    ...(partial ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
  });
  if (req.method === 'HEAD' || end < start) res.end();
  else if (Buffer.isBuffer(data)) res.end(data.subarray(start, end + 1));
  else {
    const stream = createReadStream(data.file, { start, end, highWaterMark: 1024 * 1024 });
    stream.on('error', () => res.destroy());
    res.on('close', () => stream.destroy());
    stream.pipe(res);
  }
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function listen(server: http.Server, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve(host);
    });
  });
}

function close(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
