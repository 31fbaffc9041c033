import { invalidArg } from '../../core/args.js';

export type HfRepoType = 'model' | 'dataset' | 'space';

/** One file (or glob) in a Hub repo at a revision: what an hf:// URL names. */
export interface HfRef {
  type: HfRepoType;
  /** "org/name". */
  repo: string;
  /** Branch, tag, refs/pr/N or a 40-hex commit (decoded). */
  revision: string;
  /** Path in the repo (decoded, POSIX); may hold glob characters. */
  path: string;
}

const PREFIX: Record<HfRepoType, string> = { model: '', dataset: 'datasets/', space: 'spaces/' };
const COMMIT = /^[0-9a-f]{40}$/;
const GLOB = /[*?[\]{}]/;

export function isCommitHash(revision: string): boolean {
  return COMMIT.test(revision);
}

export function isGlob(path: string): boolean {
  return GLOB.test(path);
}

/**
 * hf://[datasets/|spaces/]<org>/<repo>[@<revision>]/<path>, the revision
 * URL-encoded (refs%2Fpr%2F1) since it may hold slashes; default main.
 */
export function parseHfUrl(source: string): HfRef {
  const example = 'hf://org/repo@main/onnx/model.onnx';
  const m = /^hf:\/\/(.*)$/i.exec(source.trim());
  if (!m) throw invalidArg(`not an hf:// URL: ${JSON.stringify(source.slice(0, 80))}; e.g. ${example}`);
  const parts = (m[1] as string).split('/');
  let type: HfRepoType = 'model';
  if (parts[0] === 'datasets' || parts[0] === 'spaces' || parts[0] === 'models') {
    type = parts[0] === 'datasets' ? 'dataset' : parts[0] === 'spaces' ? 'space' : 'model';
    parts.shift();
  }
  const [org, repoPart, ...rest] = parts;
  if (!org || !repoPart || rest.length === 0 || rest.some((s) => s === '')) {
    throw invalidArg(`${JSON.stringify(source.slice(0, 80))} needs <org>/<repo>/<path>, e.g. ${example}`);
  }
  const at = repoPart.indexOf('@');
  const name = at < 0 ? repoPart : repoPart.slice(0, at);
  const revision = at < 0 ? 'main' : decode(repoPart.slice(at + 1), source);
  const segments = rest.map((s) => decode(s, source));
  if (!name || !revision || segments.some((s) => s === '.' || s === '..' || s.includes('/'))) {
    throw invalidArg(
      `${JSON.stringify(source.slice(0, 80))}: bad repo name, revision or path; e.g. ${example}`,
    );
  }
  return { type, repo: `${decode(org, source)}/${decode(name, source)}`, revision, path: segments.join('/') };
}

function decode(text: string, source: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalidArg(`${JSON.stringify(source.slice(0, 80))}: bad percent-encoding`);
  }
}

/** The canonical hf:// form (revision always present and encoded). */
export function formatHfUrl(ref: HfRef): string {
  return `hf://${PREFIX[ref.type]}${ref.repo}@${encodeURIComponent(ref.revision)}/${encodePath(ref.path)}`;
}

export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** GET/HEAD address of the file on the hub. */
export function resolveUrl(endpoint: string, ref: HfRef): string {
  return `${endpoint}/${PREFIX[ref.type]}${ref.repo}/resolve/${encodeURIComponent(ref.revision)}/${encodePath(ref.path)}`;
}

/** /api/{models|datasets|spaces}/{repo}/{action}/{revision}[/{path}] */
export function apiUrl(endpoint: string, ref: HfRef, action: string, revision: string, path = ''): string {
  const tail = path ? `/${encodePath(path)}` : '';
  return `${endpoint}/api/${ref.type}s/${ref.repo}/${action}/${encodeURIComponent(revision)}${tail}`;
}

/** The repo's page, where gated repos' terms are accepted. */
export function repoPage(endpoint: string, ref: HfRef): string {
  return `${endpoint}/${PREFIX[ref.type]}${ref.repo}`;
}
