import type { Readable } from 'node:stream'
import { InvalidRequest } from '../errors.js'
import type { DownloadUrlOptions, FileStorage } from '../store/file-storage.js'
import type { FinishedUpload } from '../store/staging.js'
import type { FileStat } from '../store/types.js'
import { isThumbnailKey, thumbnailKey } from './thumbnail-keys.js'

/** The kept thumbnails, each named by its original's key (never by a key of the thumbnails' folder). */
export interface Thumbnails {
  stat(key: string): Promise<FileStat | null>
  read(key: string): Readable
  place(upload: FinishedUpload, key: string): Promise<boolean>
}

function fileKey(key: string): string {
  if (isThumbnailKey(key)) throw new InvalidRequest('Invalid storage key: the thumbnails\' folder holds no saved files.')
  return key
}

/**
 * The feature's file storage: the configured one, with the thumbnails' folder kept apart from the
 * saved files. Every file call refuses a key in that folder; deleting a file deletes its thumbnail
 * too (a no-op when none was made). Other members of the configured storage (`close`) pass through.
 */
export class FilesWithThumbnails implements FileStorage {
  readonly thumbnails: Thumbnails
  readonly downloadUrl?: (key: string, options: DownloadUrlOptions) => Promise<string | null>
  readonly close?: () => unknown

  constructor(readonly files: FileStorage) {
    this.thumbnails = {
      stat: async (key) => files.stat(thumbnailKey(fileKey(key))),
      read: (key) => files.read(thumbnailKey(fileKey(key))),
      place: async (upload, key) => files.place(upload, thumbnailKey(fileKey(key))),
    }
    const { downloadUrl } = files
    if (downloadUrl) this.downloadUrl = async (key, options) => downloadUrl.call(files, fileKey(key), options)
    const { close } = files as { close?: () => unknown }
    if (typeof close === 'function') this.close = () => close.call(files)
  }

  async init(): Promise<void> {
    return this.files.init()
  }

  async place(upload: FinishedUpload, key: string): Promise<boolean> {
    return this.files.place(upload, fileKey(key))
  }

  async stat(key: string): Promise<FileStat | null> {
    return this.files.stat(fileKey(key))
  }

  read(key: string, range?: { start: number; end: number }): Readable {
    return this.files.read(fileKey(key), range)
  }

  async delete(key: string): Promise<void> {
    await this.files.delete(fileKey(key))
    await this.files.delete(thumbnailKey(key)).catch(() => undefined)
  }
}
