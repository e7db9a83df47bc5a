import { createHash, type Hash } from 'node:crypto'
import { ChunkDigestMismatch } from '../errors.js'

/**
 * Hashes a chunk's bytes as they pass to the store (the bytes in hand, never a second read) and
 * refuses them at the end when they are not the bytes the client hashed. A store calls `verify`
 * before it marks the chunk held, so a damaged chunk is never held.
 */
export class ChunkDigestCheck {
  private readonly hash: Hash = createHash('sha256')

  constructor(readonly expected: string, private readonly chunkNumber: number) {}

  update(piece: Buffer): void {
    this.hash.update(piece)
  }

  verify(): void {
    const actual = this.hash.digest('hex')
    if (actual !== this.expected) {
      throw new ChunkDigestMismatch(`Chunk ${this.chunkNumber} arrived damaged (its SHA-256 is not the one sent with it); nothing was stored, send it again.`)
    }
  }
}

/** A chunk check for `chunk`, or null when the client sent no digest. */
export function chunkCheck(chunk: { sha256?: string; chunkNumber: number }): ChunkDigestCheck | null {
  return chunk.sha256 ? new ChunkDigestCheck(chunk.sha256, chunk.chunkNumber) : null
}
