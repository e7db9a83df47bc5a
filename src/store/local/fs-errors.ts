import { stat } from 'node:fs/promises'
import { ChunkBusy, StorageFailure, UploadExpired } from '../../errors.js'

/** A file or folder that is not there (any more). */
export function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT'
}

const STORAGE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EIO', 'EMFILE', 'ENFILE', 'EBUSY'])

/** File-system failures become a retryable 507: the chunk is not marked, so a retry is safe. */
export function storageError(error: unknown, doing: string): unknown {
  const code = (error as NodeJS.ErrnoException)?.code
  if (code && STORAGE_CODES.has(code)) {
    return new StorageFailure(`The server could not ${doing} (${code}); the upload will be retried.`)
  }
  return error
}

/** The upload was removed (cancelled or expired) while a request for it was under way. */
export function uploadGone(): UploadExpired {
  return new UploadExpired('This upload no longer exists on the server; start it again.')
}

/** The copy in memory no longer matches the upload on disk: the retry goes by the disk. */
export function uploadChanged(): ChunkBusy {
  return new ChunkBusy('This upload changed on the server while the chunk arrived; retry.')
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}
