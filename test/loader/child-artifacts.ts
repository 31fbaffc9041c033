// Child process for the failure-policy tests: runs artifacts() and stays alive like a web process would.
import { LocalStorage } from '../../adapters/local/index.js';
import { artifacts } from '../../src/loader/index.js';
import { setLogger } from '../../src/util/log.js';

// Log lines to stderr; stdout is for the one result line.
setLogger({ info: (m) => console.error(m), warn: (m) => console.error(m) });

const args = JSON.parse(process.argv[2] ?? '{}') as { storageRoot: string; options: Record<string, unknown> };
const handle = artifacts({
  ...args.options,
  storage: new LocalStorage(args.storageRoot),
  progressInterval: 0,
});
const alive = setInterval(() => undefined, 1_000);
handle.ready
  .then(
    () => process.stdout.write('ready\n'),
    () => process.stdout.write(`still up, state ${handle.status().state}\n`),
  )
  .finally(() => clearInterval(alive));
