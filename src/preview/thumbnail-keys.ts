/**
 * Where thumbnails live in the file storage: a top folder of their own that no saved file's key
 * may take (buildKey refuses it, and the feature's file storage refuses it on every call), so a
 * thumbnail can never overwrite, stand in for or delete a file someone saved, whatever its name.
 * The thumbnail of `documents/1/a.png` is `.thumbnails/documents/1/a.png`: the same path below the
 * folder, so two originals that fit side by side always have thumbnails that do too.
 */
export const THUMBNAIL_FOLDER = '.thumbnails'

export function thumbnailKey(key: string): string {
  return `${THUMBNAIL_FOLDER}/${key}`
}

/**
 * Whether `key` lies in the thumbnails' folder. Compared without case: on a case-insensitive file
 * system (macOS, Windows) `.Thumbnails/a` is the same file as `.thumbnails/a`.
 */
export function isThumbnailKey(key: string): boolean {
  return typeof key === 'string' && key.split('/')[0].toLowerCase() === THUMBNAIL_FOLDER
}
