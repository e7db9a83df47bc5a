import { Transform, type Readable, type TransformCallback } from 'node:stream'
import { InvalidRequest } from '../../errors.js'
import { chunkCheck } from '../../content/chunk-check.js'
import type { ChunkSink } from '../types.js'

/**
 * Passes a chunk body on to UploadPart while counting it: a piece that would go past `length` fails
 * the stream before it is passed on, and an end before `length` fails it too, so the object store
 * never receives a complete request for a body of the wrong size and the part is never marked.
 * The request declares `ContentLength: length`, so the SDK streams without buffering the chunk.
 * With the client's `sha256`, the last piece is held back until the digest of all the bytes is
 * checked: a damaged chunk never reaches the object store whole, so no part is stored for it.
 *
 * `failure()` tells the caller why the upload failed when the cause was the body (too long, too
 * short, client gone) rather than the object store.
 */
export interface ExactBody {
  stream: Readable
  failure(): Error | null
  /**
   * Aborted as soon as the body fails: the SDK pipes the body into the HTTP request, and a failing
   * source alone leaves that request waiting for bytes that never come.
   */
  signal: AbortSignal
  /** Stops feeding the object store and lets the rest of the request body drain unread. */
  detach(): void
}

export function exactBody(body: Readable, length: number, chunkNumber: number, sha256?: string, sink?: ChunkSink): ExactBody {
  const check = chunkCheck({ chunkNumber, sha256 })
  let received = 0
  let failure: Error | null = null
  const controller = new AbortController()
  const fail = (error: Error) => {
    failure ??= error
    controller.abort(error)
    return failure
  }
  const guard = new Transform({
    transform(piece: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      if (received + piece.length > length) {
        callback(fail(new InvalidRequest(`Chunk ${chunkNumber} carries more than the ${length} bytes declared.`)))
        return
      }
      received += piece.length
      if (check) {
        check.update(piece)
        if (received === length) {
          try {
            check.verify()
          } catch (error) {
            callback(fail(error as Error))
            return
          }
        }
      }
      sink?.piece(piece)
      callback(null, piece)
    },
    flush(callback: TransformCallback) {
      if (received !== length) {
        callback(fail(new InvalidRequest(`Chunk ${chunkNumber} carried ${received} bytes, but ${length} were declared.`)))
        return
      }
      callback()
    },
  })
  body.on('error', (error: Error) => guard.destroy(fail(error)))
  guard.on('error', (error: Error) => fail(error))
  body.pipe(guard)
  const detach = () => {
    body.unpipe(guard)
    if (!body.destroyed) body.resume()
  }
  return { stream: guard, failure: () => failure, signal: controller.signal, detach }
}

/** Reads a body to its end without keeping it (a duplicate chunk: the client must not see a reset). */
export async function discardBody(body: AsyncIterable<Buffer>): Promise<void> {
  for await (const piece of body) void piece
}
