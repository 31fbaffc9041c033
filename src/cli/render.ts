import { formatBytes } from '../util/bytes.js';
import type { AnalyzeResult } from './analyze.js';
import { padStart } from './format.js';
import type { MigrateAssetsResult } from './migrate-assets.js';
import type { PullResult } from './pull.js';
import type { Ui } from './ui.js';
import type { VerifyResult } from './verify.js';

/** Human-readable reports of each command; `--json` prints the result objects instead. */

/**
 * `committed`: whether git holds the manifest and .slugignore as written
 * (undefined: git cannot tell), for the next step to suggest.
 */
export function renderMigrate(ui: Ui, r: MigrateAssetsResult, committed?: boolean): void {
  const toUpload = r.files.filter((f) => f.action === 'upload');
  const uploadBytes = toUpload.reduce((sum, f) => sum + f.size, 0);
  if (r.dryRun) ui.line(ui.style('Dry run: nothing is uploaded or written.', 'bold'));
  ui.line(`Storage: ${r.storage ?? '(none given: pass --to or set STOWAGE_URL to check what is stored)'}`);
  if (r.files.length === 0) {
    ui.line('No files selected: nothing to migrate.');
    return;
  }
  if (r.dryRun) {
    for (const f of r.files) {
      const action = f.action === 'upload' ? ui.style('upload', 'cyan') : ui.style('stored', 'dim');
      ui.line(`  ${action}  ${padStart(formatBytes(f.size), 8)}  ${f.path} -> ${f.key}`);
    }
    ui.line(
      `${r.files.length} file(s), ${formatBytes(sum(r.files))}: ${toUpload.length} to upload (${formatBytes(uploadBytes)}), ${r.alreadyStored} already stored.`,
    );
  } else if (nothingChanged(r)) {
    // A re-run: the slug saving happened before; say where it stands and what is left.
    ui.line(
      `Nothing to upload: ${r.files.length} file(s), ${formatBytes(sum(r.files))}, already in storage; .slugignore keeps them out of the slug.`,
    );
    ui.line(`Manifest: ${r.manifest} (${r.files.length + r.absent.length} file(s)).`);
    nextStep(ui, r, committed);
    return;
  } else {
    ui.line(
      `Uploaded ${r.uploaded} file(s), ${formatBytes(r.uploadedBytes)}; ${r.alreadyStored} already stored; ${r.hashed} hashed.`,
    );
    ui.line(`Manifest: ${r.manifest} (${r.files.length + r.absent.length} file(s)).`);
    ui.line(
      r.slugignoreAdded.length
        ? `Added ${r.slugignoreAdded.length} path(s) to .slugignore.`
        : '.slugignore already lists every moved path.',
    );
    if (r.untracked.length) {
      ui.line(`Untracked ${r.untracked.length} file(s) (git rm --cached); they stay on disk.`);
      ui.line('  Add them to .gitignore too so that "git add ." does not bring them back.');
    }
  }
  ui.line(
    r.slugBytesSaved > 0
      ? ui.style(`Slug shrinks by ${formatBytes(r.slugBytesSaved)} (${r.slugBytesSaved} bytes).`, 'green')
      : `Slug unchanged: these ${r.files.length} file(s), ${formatBytes(sum(r.files))}, are already out of it.`,
  );
  if (!r.dryRun) nextStep(ui, r, committed);
}

function nothingChanged(r: MigrateAssetsResult): boolean {
  return (
    r.uploaded === 0 && r.slugBytesSaved === 0 && r.slugignoreAdded.length === 0 && r.untracked.length === 0
  );
}

/** A deploy ships only what git holds: say whether the manifest and .slugignore still need a commit. */
function nextStep(ui: Ui, r: MigrateAssetsResult, committed: boolean | undefined): void {
  const files = `${r.manifest} and .slugignore`;
  if (committed === true) ui.line(`${files} are committed: nothing left to do.`);
  else if (committed === false) {
    ui.line(`Next: commit ${files} (git add ${r.manifest} .slugignore && git commit), then deploy.`);
  } else ui.line(`Next: commit ${files} if not yet, then deploy.`);
}

export function renderAnalyze(ui: Ui, r: AnalyzeResult): void {
  const source = r.source === 'git' ? 'git-tracked files' : 'files not ignored by .gitignore';
  ui.line(ui.style(`Slug contents of ${r.dir} (${source}, minus .slugignore)`, 'bold'));
  ui.line(`  ${r.slug.files} file(s), ${formatBytes(r.slug.bytes)} (${r.slug.bytes} bytes)`);
  ui.line(`  compressed estimate: ${formatBytes(r.slug.compressed.bytes)} (${r.slug.compressed.method})`);
  if (r.nodeModules) {
    const kind = r.nodeModules.productionOnly
      ? 'production dependencies'
      : 'all of it, dev included: no lockfile';
    ui.line(`  node_modules: ${formatBytes(r.nodeModules.bytes)} (${kind}; installed at build)`);
  }
  section(
    ui,
    'Largest folders',
    r.largestFolders.map((f) => [f.bytes, f.type === 'dir' ? `${f.path}/` : f.path]),
  );
  section(
    ui,
    'Largest files',
    r.largestFiles.map((f) => [f.bytes, f.path]),
  );
  if (r.slugignored.files > 0) {
    ui.line();
    ui.line(`.slugignore keeps out ${r.slugignored.files} file(s), ${formatBytes(r.slugignored.bytes)}.`);
  }
  if (r.migratable.files > 0) {
    section(
      ui,
      `migrate-assets would move ${r.migratable.files} file(s), ${formatBytes(r.migratable.bytes)}`,
      r.migratable.largest.map((f) => [f.bytes, f.path]),
    );
  }
  if (r.nodeModules && r.nodeModules.largest.length > 0) {
    section(
      ui,
      'Heaviest production dependencies',
      r.nodeModules.largest.map((p) => [p.bytes, p.name]),
    );
  }
  ui.line();
  if (r.suggestions.length === 0) ui.line('No suggestions: the slug carries nothing obvious to move.');
  else ui.line(ui.style('Suggestions', 'bold'));
  for (const s of r.suggestions) {
    ui.line(`  - ${s.message}: saves ${formatBytes(s.bytes)}${s.command ? `\n      ${s.command}` : ''}`);
  }
}

export function renderPull(ui: Ui, r: PullResult): void {
  ui.line(`Storage: ${storageLabel(r.storage)}`);
  const direct = r.files.filter((f) => f.from === 'source').length;
  if (direct) ui.line(`${direct} file(s) read from their pinned source, not storage.`);
  ui.line(
    `Restored ${r.restored} file(s), ${formatBytes(r.restoredBytes)}; ${r.present} already present and verified.`,
  );
}

function storageLabel(url: string): string {
  return url || '(none: every entry reads from its pinned source)';
}

export function renderVerify(ui: Ui, r: VerifyResult): void {
  ui.line(`Storage: ${storageLabel(r.storage)}`);
  for (const f of r.files) {
    if (f.problems.length === 0) continue;
    const where = f.key !== undefined ? `key ${f.key}` : `source ${f.source}`;
    ui.line(`  ${ui.style('MISMATCH', 'red')} ${f.path} (${where}${f.origin ? `, origin ${f.origin}` : ''})`);
    for (const p of f.problems) ui.line(`      ${p}`);
  }
  const mirrored = r.files.filter((f) => f.origin !== undefined).length;
  if (mirrored) ui.line(`${mirrored} mirrored file(s) checked in storage (their origin is not asked).`);
  const sizeOnly = r.files.filter((f) => f.remoteMethod === 'size').length;
  if (sizeOnly) {
    ui.line(
      `${sizeOnly} file(s) read from a source that states no sha256: checked by size only (--deep downloads and hashes them).`,
    );
  }
  const absent = r.files.filter((f) => f.local === 'absent').length;
  const local = absent ? `; ${absent} not restored locally (not checked)` : '';
  ui.line(
    r.ok
      ? ui.style(`All ${r.files.length} file(s) verified${local}.`, 'green')
      : ui.style(`${r.mismatches} of ${r.files.length} file(s) do not match${local}.`, 'red'),
  );
}

function section(ui: Ui, title: string, rows: [number, string][]): void {
  if (rows.length === 0) return;
  ui.line();
  ui.line(ui.style(title, 'bold'));
  for (const [bytes, name] of rows) ui.line(`  ${padStart(formatBytes(bytes), 8)}  ${name}`);
}

function sum(files: { size: number }[]): number {
  return files.reduce((total, f) => total + f.size, 0);
}
