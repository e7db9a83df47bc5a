import { rename } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import type { UploadManifest } from '../types.js'
import { exists, isMissing, storageError } from './fs-errors.js'
import type { MetadataIo } from './io.js'
import type { StagingLayout } from './layout.js'

/** Whether chunk `chunkNumber` is marked held in the upload's `received` file (one byte per chunk, layout.ts). */
export async function readMark(io: MetadataIo, received: FileHandle, chunkNumber: number): Promise<boolean> {
  const byte = Buffer.alloc(1)
  return (await io.read(received, byte, chunkNumber - 1)) === 1 && byte[0] === 1
}

/** Renames `data` to `complete` once every chunk is marked; exactly one caller's rename wins. */
export async function finishIfAllHeld(io: MetadataIo, layout: StagingLayout, manifest: UploadManifest, received: FileHandle): Promise<boolean> {
  const marks = Buffer.alloc(manifest.chunkCount)
  try {
    const bytesRead = await io.read(received, marks, 0)
    // `complete` appears only after every mark is set and marks are never cleared, so an
    // unmarked chunk means there is nothing to look for.
    if (bytesRead < marks.length || marks.includes(0)) return false
  } catch (error) {
    throw storageError(error, 'read the upload state')
  }
  const complete = layout.file(manifest.id, 'complete')
  try {
    await rename(layout.file(manifest.id, 'data'), complete)
    return true
  } catch (error) {
    if (isMissing(error)) return exists(complete)
    throw storageError(error, 'finish the upload')
  }
}
