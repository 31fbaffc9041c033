/**
 * A reader that went away (`stowage analyze | head -5`) ends the command
 * quietly, as it ends Unix tools: no stack trace, status 0 (or the status
 * the command had already settled on). Any other stream error still throws.
 */
export function endQuietlyOnClosedPipe(
  streams: NodeJS.WriteStream[] = [process.stdout, process.stderr],
): void {
  for (const stream of streams) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    });
  }
}
