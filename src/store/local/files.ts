import { constants, createReadStream } from 'node:fs'
import { copyFile, link, mkdir, rmdir, stat, unlink } from 'node:fs/promises'
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createWriteStream } from 'node:fs'
import { InvalidRequest } from '../../errors.js'
import type { FileStorage } from '../file-storage.js'
import type { FinishedUpload } from '../staging.js'
import type { FileStat } from '../types.js'
import { isMissing, storageError } from './fs-errors.js'
import { nonce } from './layout.js'

export interface LocalFileOptions {
  /** Root of the saved files (absolute); record keys are paths relative to it. */
  directory: string
  /** The staging folder (absolute): no key may point into it. */
  stagingDirectory: string
}

/** Saved files in a local folder: the key is the path relative to the root. */
export class LocalFileStorage implements FileStorage {
  readonly directory: string
  private readonly stagingDirectory: string

  constructor(options: LocalFileOptions) {
    this.directory = options.directory
    this.stagingDirectory = options.stagingDirectory
  }

  async init(): Promise<void> {
    await mkdir(this.directory, { recursive: true })
  }

  async place(upload: FinishedUpload, key: string): Promise<boolean> {
    const target = this.resolveKey(key)
    await mkdir(dirname(target), { recursive: true }).catch((error) => {
      throw storageError(error, 'create the target folder')
    })
    // A hard link appears whole in one step and, unlike a rename, never replaces what is there.
    const source = upload.location.kind === 'local-file' ? String(upload.location.path) : null
    if (source) {
      try {
        await link(source, target)
        return true
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code === 'EEXIST') return false
        if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw storageError(error, 'store the file')
      }
    }
    // Another file system, or bytes from elsewhere: copied beside the target first, then linked.
    const temp = `${target}.resumable-${nonce()}`
    try {
      if (source) await copyFile(source, temp, constants.COPYFILE_EXCL)
      else await pipeline(upload.read(), createWriteStream(temp, { flags: 'wx' }))
      await link(temp, target)
      return true
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw storageError(error, 'store the file')
    } finally {
      await unlink(temp).catch(() => undefined)
    }
  }

  async stat(key: string): Promise<FileStat | null> {
    try {
      const info = await stat(this.resolveKey(key))
      return info.isFile() ? { size: info.size, modifiedAt: info.mtime } : null
    } catch (error) {
      if (isMissing(error)) return null
      throw error
    }
  }

  read(key: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.resolveKey(key), range)
  }

  async delete(key: string): Promise<void> {
    const path = this.resolveKey(key)
    await unlink(path).catch((error) => {
      if (!isMissing(error)) throw error
    })
    // Remove folders the key created (e.g. documents/<id>/) once they are empty.
    for (let dir = dirname(path); dir !== this.directory && dir.startsWith(this.directory + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir)
      } catch {
        break
      }
    }
  }

  /** Turns a record key into a path, refusing anything that could leave the storage root. */
  resolveKey(key: string): string {
    if (typeof key !== 'string' || !key || key.includes('\0') || key.includes('\\') || isAbsolute(key)) {
      throw new InvalidRequest('Invalid storage key.')
    }
    const segments = key.split('/')
    if (segments.some((s) => s === '' || s === '.' || s === '..')) throw new InvalidRequest('Invalid storage key.')
    const path = resolve(this.directory, key)
    const inRoot = relative(this.directory, path)
    const inStaging = relative(this.stagingDirectory, path)
    if (inRoot.startsWith('..') || isAbsolute(inRoot) || !inStaging.startsWith('..')) {
      throw new InvalidRequest('Invalid storage key.')
    }
    return path
  }
}

