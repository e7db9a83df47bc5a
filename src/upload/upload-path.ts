import type { BaseRecord } from 'adminjs'
import { isThumbnailKey, THUMBNAIL_FOLDER } from '../preview/thumbnail-keys.js'
import { sanitizeFilename } from '../protocol/filename.js'
import type { RecordView } from './entries.js'
import type { UploadPathOption } from './hook-types.js'

/**
 * Builds the storage key of a saved file. The file name is the sanitised one from the manifest, the
 * record id is sanitised too, and whatever a custom function returns is checked, so no client
 * string can steer the key out of the storage root.
 */
export function buildKey(option: UploadPathOption | undefined, resourceId: string, record: RecordView, filename: string): string {
  const recordId = sanitizeFilename(String(record.id()))
  const key = typeof option === 'function'
    // The record is the adapter's BaseRecord: the feature's hooks hand it over as AdminJS gave it.
    ? option(record as BaseRecord, filename)
    : `${trimSlashes(option ?? sanitizeFilename(resourceId))}/${recordId}/${filename}`
  return assertSafeKey(key)
}

export function assertSafeKey(key: string): string {
  const segments = typeof key === 'string' ? key.split('/') : []
  if (
    !segments.length
    || key.includes('\\')
    || key.includes('\0')
    || segments.some((s) => !s || s === '.' || s === '..' || s.trim() !== s && s.trim() === '')
  ) {
    throw new Error(`adminjs-resumable: uploadPath produced an unsafe key: ${JSON.stringify(key)}`)
  }
  if (isThumbnailKey(key)) {
    throw new Error(`adminjs-resumable: uploadPath produced a key in the thumbnails' folder "${THUMBNAIL_FOLDER}/", which no saved file may use: ${JSON.stringify(key)}`)
  }
  return key
}

function trimSlashes(folder: string): string {
  return folder.replace(/^\/+|\/+$/g, '')
}
