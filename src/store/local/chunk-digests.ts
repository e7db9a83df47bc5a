import { isMissing, storageError } from './fs-errors.js'
import type { MetadataIo } from './io.js'

const SLOT = 32

/**
 * The `digests` file of an upload (see layout.ts): one 32-byte slot per chunk at its own offset, so
 * processes writing different chunks never touch each other's bytes. Written and read through the
 * store's metadata io, like the marks: on a local disk a few direct system calls per chunk.
 */
export async function writeChunkDigest(io: MetadataIo, path: string, chunkNumber: number, sha256: string): Promise<void> {
  try {
    await io.writeAt(path, Buffer.from(sha256, 'hex'), (chunkNumber - 1) * SLOT)
  } catch (error) {
    throw storageError(error, 'record the chunk digest')
  }
}

/** The digest kept for a chunk, lower-case hex; null when none was sent or the file is gone. */
export async function readChunkDigest(io: MetadataIo, path: string, chunkNumber: number): Promise<string | null> {
  const slot = Buffer.alloc(SLOT)
  let bytesRead
  try {
    bytesRead = await io.readAt(path, slot, (chunkNumber - 1) * SLOT)
  } catch (error) {
    if (isMissing(error)) return null
    throw storageError(error, 'read the chunk digest')
  }
  if (bytesRead < SLOT || slot.every((b) => b === 0)) return null
  return slot.toString('hex')
}
