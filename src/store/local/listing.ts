import { createReadStream } from 'node:fs'
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { chunkLength } from '../../shared/arithmetic.js'
import type { StagedUpload, UploadCompletion, UploadManifest } from '../types.js'
import { isMissing, storageError, uploadGone } from './fs-errors.js'
import { FILES, ID, nonce, type StagingLayout } from './layout.js'

/** One owner's uploads in the staging folder, read from the folder itself (so across processes). */
export async function listOwner(layout: StagingLayout, owner: string): Promise<StagedUpload[]> {
  let names: string[]
  try {
    names = await readdir(layout.root)
  } catch (error) {
    if (isMissing(error)) return []
    throw storageError(error, 'list the uploads')
  }
  const found: StagedUpload[] = []
  for (const name of names) {
    if (!ID.test(name)) continue
    const upload = await describe(join(layout.root, name), owner).catch(() => null)
    if (upload) found.push(upload)
  }
  return found
}

/** Null for a stranger's folder, another owner's upload, or one removed meanwhile. */
async function describe(dir: string, owner: string): Promise<StagedUpload | null> {
  const manifest = JSON.parse(await readFile(join(dir, FILES.manifest), 'utf8')) as UploadManifest
  if (manifest.owner !== owner) return null
  const [marks, received, complete] = await Promise.all([
    readFile(join(dir, FILES.received)),
    stat(join(dir, FILES.received)),
    stat(join(dir, FILES.complete)).then(() => true, () => false),
  ])
  const layout = { totalSize: manifest.totalSize, chunkSize: manifest.chunkSize, forceChunkSize: manifest.forceChunkSize }
  let receivedBytes = 0
  for (let n = 1; n <= manifest.chunkCount; n++) if (marks[n - 1] === 1) receivedBytes += chunkLength(layout, n)
  return { manifest, receivedBytes: complete ? manifest.totalSize : receivedBytes, complete, updatedAt: received.mtime.toISOString() }
}

/** Written beside and renamed into place: a reader sees the whole record or none. */
export async function writeCompletion(layout: StagingLayout, id: string, completion: UploadCompletion): Promise<void> {
  const path = layout.file(id, 'completion')
  const temp = `${path}.${nonce()}`
  try {
    await writeFile(temp, JSON.stringify(completion))
    await rename(temp, path)
  } catch (error) {
    if (isMissing(error)) throw uploadGone()
    throw storageError(error, 'record the finished upload')
  }
}

export async function readCompletion(layout: StagingLayout, id: string): Promise<UploadCompletion | null> {
  try {
    return JSON.parse(await readFile(layout.file(id, 'completion'), 'utf8')) as UploadCompletion
  } catch (error) {
    if (isMissing(error)) return null
    throw storageError(error, 'read the finished upload')
  }
}

const READ_SIZE = 256 * 1024

/**
 * Held bytes of an upload: from `data` while chunks arrive, from `complete` once it was renamed
 * (a rename between the two attempts finds the other name).
 */
export function readHeldBytes(layout: StagingLayout, id: string, range: { start: number; end: number }): Readable {
  const paths = [layout.file(id, 'data'), layout.file(id, 'complete'), layout.file(id, 'data')]
  return Readable.from((async function* held() {
    for (const path of paths) {
      // Reads as large as the chunk writes batch (chunk-write.ts); the bytes were just written, so
      // they come from the page cache.
      const stream = createReadStream(path, { ...range, highWaterMark: READ_SIZE })
      try {
        for await (const piece of stream) yield piece as Buffer
        return
      } catch (error) {
        if (!isMissing(error)) throw error
      }
    }
    throw uploadGone()
  })())
}
