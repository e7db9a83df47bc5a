import { constants } from 'node:fs'
import { open } from 'node:fs/promises'
import { isMissing, storageError } from './fs-errors.js'

const SLOT = 32

/**
 * The `digests` file of an upload (see layout.ts): one 32-byte slot per chunk at its own offset, so
 * processes writing different chunks never touch each other's bytes.
 */
export async function writeChunkDigest(path: string, chunkNumber: number, sha256: string): Promise<void> {
  try {
    const file = await open(path, constants.O_WRONLY | constants.O_CREAT, 0o600)
    try {
      const slot = Buffer.from(sha256, 'hex')
      let written = 0
      while (written < SLOT) written += (await file.write(slot, written, SLOT - written, (chunkNumber - 1) * SLOT + written)).bytesWritten
    } finally {
      await file.close()
    }
  } catch (error) {
    throw storageError(error, 'record the chunk digest')
  }
}

/** The digest kept for a chunk, lower-case hex; null when none was sent or the file is gone. */
export async function readChunkDigest(path: string, chunkNumber: number): Promise<string | null> {
  let file
  try {
    file = await open(path, 'r')
  } catch (error) {
    if (isMissing(error)) return null
    throw storageError(error, 'read the chunk digest')
  }
  try {
    const slot = Buffer.alloc(SLOT)
    const { bytesRead } = await file.read(slot, 0, SLOT, (chunkNumber - 1) * SLOT)
    if (bytesRead < SLOT || slot.every((b) => b === 0)) return null
    return slot.toString('hex')
  } catch (error) {
    throw storageError(error, 'read the chunk digest')
  } finally {
    await file.close()
  }
}
