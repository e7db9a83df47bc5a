import { isAbsolute, join, relative, resolve, sep } from 'node:path'
import { ConfigurationError } from '../../errors.js'
import { ensureWritableDirectory } from './writable-directory.js'
import { LocalFileStorage } from './files.js'
import { LocalStagingStore } from './staging.js'

export interface LocalStorageOptions {
  /** Root of the saved files; record keys are paths relative to it. */
  directory: string
  /** Where chunks are staged. Default `<directory>/.resumable`. Keep it on the same file system. */
  stagingDirectory?: string
  /** A chunk lock not refreshed for this long is taken over. Default 30 s. */
  lockStaleMs?: number
  /**
   * Run a chunk request's small metadata operations (its lock, its mark bytes, a stat) as direct
   * system calls on the event loop rather than through libuv's thread pool: faster on local disks.
   * Set false when the staging folder is on a network file system, where one call can take
   * milliseconds. Default true.
   */
  directMetadata?: boolean
}

/** The name of these options before the store was split in two. */
export type LocalStoreOptions = LocalStorageOptions

/** The local backend: a staging store and a file storage on folders of one file system. */
export function localBackend(options: LocalStorageOptions): { staging: LocalStagingStore; files: LocalFileStorage } {
  const directory = resolve(options.directory)
  const stagingDirectory = resolve(options.stagingDirectory ?? join(directory, '.resumable'))
  assertStagingApart(directory, stagingDirectory)
  ensureWritableDirectory(directory, 'storage.local.directory')
  ensureWritableDirectory(stagingDirectory, 'storage.local.stagingDirectory')
  return {
    staging: new LocalStagingStore({
      directory: stagingDirectory, lockStaleMs: options.lockStaleMs, directMetadata: options.directMetadata,
    }),
    files: new LocalFileStorage({ directory, stagingDirectory }),
  }
}

/**
 * Saved files must never be inside the staging folder: the store cleans it (its own names only, but
 * a saved file's key could still collide with one) and refuses keys that point into it, so a
 * staging folder that holds the storage root would make every file unreachable or at risk.
 */
function assertStagingApart(directory: string, stagingDirectory: string): void {
  const fromStaging = relative(stagingDirectory, directory)
  const outside = fromStaging === '..' || fromStaging.startsWith(`..${sep}`) || isAbsolute(fromStaging)
  if (!outside) {
    throw new ConfigurationError(
      'storage.local.stagingDirectory',
      `(${stagingDirectory}) must not be the storage directory (${directory}) or a folder above it: `
      + `use a folder of its own, e.g. ${join(directory, '.resumable')}.`,
    )
  }
}

export { LocalFileStorage } from './files.js'
export { LocalStagingStore } from './staging.js'
