import { redact } from './redact.js';

/** Where stowage writes its few log lines. Every line passes through redact(). */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

let current: Logger = {
  info: (m) => console.log(m),
  warn: (m) => console.warn(m),
};

/** Route stowage's log lines elsewhere (pino, winston, or a test spy); returns the logger it replaces. */
export function setLogger(logger: Logger): Logger {
  const previous = current;
  current = logger;
  return previous;
}

export const log = {
  info: (message: string): void => current.info(redact(`[stowage] ${message}`)),
  warn: (message: string): void => current.warn(redact(`[stowage] ${message}`)),
};
