import { isAbortError, isStowageError, StowageError } from '../../src/core/errors.js';

/** Maps a filesystem or stream error to the error class, naming the key. */
export function mapFsError(err: unknown, key: string, action: string): StowageError {
  if (isStowageError(err)) return err;
  if (isAbortError(err))
    return new StowageError('ABORTED', `${action} "${key}" was aborted`, { cause: err, key });
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ELOOP':
    case 'EISDIR':
      return new StowageError('NOT_FOUND', `no object at key "${key}"`, { cause: err, key });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new StowageError('ACCESS_DENIED', `${action} "${key}": permission denied by the filesystem`, {
        cause: err,
        key,
      });
    case 'ENOSPC':
    case 'EDQUOT':
      return new StowageError('DISK_FULL', `${action} "${key}": no space left on the device`, {
        cause: err,
        key,
      });
    case 'EMFILE':
    case 'ENFILE':
    case 'EBUSY':
    case 'EAGAIN':
      return new StowageError('UNAVAILABLE', `${action} "${key}": the filesystem is busy (${code})`, {
        cause: err,
        key,
      });
    default:
      return new StowageError(
        'INTERNAL',
        `${action} "${key}" failed: ${(err as Error)?.message ?? String(err)}`,
        {
          cause: err,
          key,
        },
      );
  }
}

export function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
