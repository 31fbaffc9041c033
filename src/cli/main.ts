import { setLogger } from '../util/log.js';
import { redact } from '../util/redact.js';
import { endQuietlyOnClosedPipe } from './closed-pipe.js';
import { cliMessage, EXIT, exitCodeFor } from './exit-codes.js';
import { runCli } from './program.js';

/** Entry of both bins: wires SIGINT to cancellation, closed pipes to a quiet end and the result to the exit code. */
export async function main(name: 'stowage' | 'migrate-assets'): Promise<void> {
  endQuietlyOnClosedPipe();
  // On Node 20 the AWS SDK warns, on every command, that its releases from
  // January 2027 need Node 22: not the CLI user's business mid-command (README
  // says it). The SDK's documented switch; a value the user set is kept.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // Library log lines go to stderr: stdout carries results (and --json documents) only.
  setLogger({
    info: (m) => process.stderr.write(`${m}\n`),
    warn: (m) => process.stderr.write(`${m}\n`),
  });
  const controller = new AbortController();
  process.once('SIGINT', () => {
    controller.abort();
    // A second Ctrl-C leaves at once.
    process.once('SIGINT', () => process.exit(EXIT.INTERRUPTED));
  });
  try {
    process.exitCode = await runCli(process.argv.slice(2), { name, signal: controller.signal });
  } catch (err) {
    process.stderr.write(`error: ${redact(cliMessage(err))}\n`);
    // What escapes runCli (a command module that fails to load, say) still gets its documented code.
    process.exitCode = exitCodeFor(err);
  }
}
