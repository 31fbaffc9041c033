import { StowageError } from '../../src/core/errors.js';

/**
 * Remembers the continuation tokens (or markers) of one listing. Some
 * S3-compatible stores hand back a token already used, which would page
 * forever; a repeat ends the listing with an error naming the quirk instead.
 */
export class PageTokens {
  private readonly seen = new Set<string>();

  constructor(private readonly operation: string) {}

  /** The token for the next page, checked; undefined ends the listing. */
  next(token: string | undefined): string | undefined {
    if (token === undefined) return undefined;
    if (this.seen.has(token)) {
      throw new StowageError(
        'UNAVAILABLE',
        `${this.operation}: the store returned a continuation token it had already returned (after ${this.seen.size} pages); it would repeat pages forever, so the listing stops. This is a quirk of the S3-compatible store: report it to its provider`,
        { retryable: false },
      );
    }
    this.seen.add(token);
    return token;
  }
}
