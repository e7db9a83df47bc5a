import { Transform, type TransformCallback } from 'node:stream'
import { SAMPLE_SIZE } from './sniff.js'

/**
 * Passes a chunk's bytes through unchanged and unbuffered while keeping a copy of the first
 * `SAMPLE_SIZE` of them; `check` runs on that copy as soon as it is full (or at the end of a shorter
 * body). The stream ends only after `check` has passed and fails with its error otherwise, so a store
 * that marks a chunk once its body has ended never marks a chunk whose content was refused. A
 * refusal that comes while bytes are still arriving stops the stream at once.
 */
export function checkedStream(check: (sample: Buffer) => Promise<void>): Transform {
  const pieces: Buffer[] = []
  let sampled = 0
  let verdict: Promise<void> | null = null
  const decide = () => {
    verdict ??= check(Buffer.concat(pieces, Math.min(sampled, SAMPLE_SIZE)).subarray(0, SAMPLE_SIZE))
    return verdict
  }
  const stream = new Transform({
    transform(piece: Buffer, _encoding, callback: TransformCallback) {
      if (sampled < SAMPLE_SIZE) {
        pieces.push(piece)
        sampled += piece.length
        if (sampled >= SAMPLE_SIZE) decide().catch((error) => stream.destroy(error))
      }
      callback(null, piece)
    },
    flush(callback: TransformCallback) {
      decide().then(() => callback(), callback)
    },
  })
  return stream
}
