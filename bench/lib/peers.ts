import { execFileSync, spawnSync } from 'node:child_process';

/** A Debian tool a figure compares against, and the package that ships it. */
const PEERS: Record<string, string> = {
  nginx: 'nginx',
  aria2c: 'aria2',
  curl: 'curl',
  aws: 'awscli',
  wrk: 'wrk',
};

export function which(tool: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    try {
      const path = `${dir}/${tool}`;
      execFileSync('test', ['-x', path]);
      return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * Installs missing peers with apt-get (once), never failing the run: a peer
 * that cannot be installed is reported with the reason and its figures skip it.
 * Returns the reason per missing tool.
 */
export function ensurePeers(log: (line: string) => void): Record<string, string> {
  const missing = Object.keys(PEERS).filter((tool) => !which(tool));
  const reasons: Record<string, string> = {};
  if (missing.length === 0) return reasons;
  const packages = missing.map((tool) => PEERS[tool] as string);
  log(`installing missing peers: apt-get install -y ${packages.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args: string[]) => spawnSync('apt-get', args, { env, encoding: 'utf8', timeout: 300_000 });
  const update = apt(['update', '-qq']);
  const install =
    update.status === 0 ? apt(['install', '-y', '-qq', '--no-install-recommends', ...packages]) : update;
  for (const tool of missing) {
    if (which(tool)) continue;
    const why =
      install.error?.message ??
      (install.stderr || install.stdout || '').trim().split('\n').pop() ??
      'unknown';
    reasons[tool] = `${tool} not installed (apt-get install ${PEERS[tool]} failed: ${why})`;
    log(`skipping peer: ${reasons[tool]}`);
  }
  return reasons;
}
