import { join, resolve } from 'node:path'
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

/** The local backend: a staging store and a file storage on folders of one file system. */
export function localBackend(options: LocalStorageOptions): { staging: LocalStagingStore; files: LocalFileStorage } {
  const directory = resolve(options.directory)
  const stagingDirectory = resolve(options.stagingDirectory ?? join(directory, '.resumable'))
  return {
    staging: new LocalStagingStore({
      directory: stagingDirectory, lockStaleMs: options.lockStaleMs, directMetadata: options.directMetadata,
    }),
    files: new LocalFileStorage({ directory, stagingDirectory }),
  }
}

export { LocalFileStorage } from './files.js'
export { LocalStagingStore } from './staging.js'
