import { checkOptionsObject, invalidArg } from '../core/args.js';
import type { ListOptions } from '../core/types.js';
import { checkInteger } from './integer-option.js';

export interface CheckedListOptions {
  pageSize: number;
  startAfter: string | undefined;
  signal: AbortSignal | undefined;
}

/**
 * The list() option check every adapter makes: options an object when given,
 * pageSize an integer from 1 (to the backend's `maxPageSize`), startAfter a
 * string, signal an AbortSignal; INVALID_ARGUMENT naming the option otherwise.
 */
export function checkListOptions(
  opts: ListOptions | undefined,
  backend: { defaultPageSize: number; maxPageSize?: number; name?: string },
): CheckedListOptions {
  checkOptionsObject(opts, 'list options');
  const { maxPageSize, name } = backend;
  const bounds =
    maxPageSize === undefined
      ? { min: 1 }
      : { min: 1, max: maxPageSize, ...(name ? { note: `for ${name}` } : {}) };
  const pageSize = checkInteger(opts?.pageSize, 'options.pageSize', bounds) ?? backend.defaultPageSize;
  const startAfter = opts?.startAfter;
  if (startAfter !== undefined && typeof startAfter !== 'string')
    throw invalidArg('options.startAfter must be a string (a key)');
  const signal = opts?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw invalidArg('options.signal must be an AbortSignal');
  return { pageSize, startAfter, signal };
}
