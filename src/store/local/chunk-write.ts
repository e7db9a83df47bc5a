import type { FileHandle } from 'node:fs/promises'
import { InvalidRequest } from '../../errors.js'
import { chunkCheck } from '../../content/chunk-check.js'
import type { ChunkWrite } from '../types.js'
import { storageError } from './fs-errors.js'

/**
 * Writes are batched to about this many bytes: a few system calls per MiB rather than one per socket
 * read, while little of a chunk is held in memory at a time. Larger batches did not pay for
 * themselves in server CPU; the comparison is `npm run bench`'s to make (bench/RESULTS.md).
 */
const WRITE_BATCH = 256 * 1024

/**
 * Writes the chunk's bytes at its offset. With `chunk.sha256`, the bytes are hashed as they pass and
 * a mismatch fails the write at the end: the caller marks the chunk only after this returns.
 * `chunk.sink` sees every byte as it passes; the caller tells it held or failed.
 */
export async function writeExactly(data: FileHandle, chunk: ChunkWrite): Promise<void> {
  const check = chunkCheck(chunk)
  let position = chunk.offset
  let received = 0
  let pending: Buffer[] = []
  let pendingBytes = 0
  // One batch is written while the next one is received: waiting for each write before reading on
  // would stall the socket for every batch.
  let writing: Promise<void> = Promise.resolve()
  const startWrite = async () => {
    await writing
    if (!pendingBytes) return
    writing = writeAt(data, pending, pendingBytes, position)
    // Observed here so that a failing write is not reported as unhandled before it is awaited.
    writing.catch(() => undefined)
    position += pendingBytes
    pending = []
    pendingBytes = 0
  }
  try {
    for await (const piece of chunk.body) {
      const buffer = piece as Buffer
      // Refused before writing: a longer body must never spill into the next chunk's bytes.
      if (received + buffer.length > chunk.length) {
        throw new InvalidRequest(`Chunk ${chunk.chunkNumber} carries more than the ${chunk.length} bytes declared.`)
      }
      received += buffer.length
      check?.update(buffer)
      chunk.sink?.piece(buffer)
      pending.push(buffer)
      pendingBytes += buffer.length
      if (pendingBytes >= WRITE_BATCH) await startWrite()
    }
    if (received !== chunk.length) {
      throw new InvalidRequest(`Chunk ${chunk.chunkNumber} carried ${received} bytes, but ${chunk.length} were declared.`)
    }
    await startWrite()
    await writing
    check?.verify()
  } catch (error) {
    // Never give up (and let the handle be closed) while a write is still running.
    await writing.catch(() => undefined)
    throw error
  }
}

/** Writes `bytes` bytes of `buffers` at `position`, however many system calls that takes. */
async function writeAt(data: FileHandle, buffers: Buffer[], bytes: number, position: number): Promise<void> {
  try {
    let written = 0
    while (written < bytes) {
      const { bytesWritten } = await data.writev(written ? sliceBuffers(buffers, written) : buffers, position + written)
      written += bytesWritten
    }
  } catch (error) {
    throw storageError(error, 'write the chunk')
  }
}

function sliceBuffers(buffers: Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = []
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length
      continue
    }
    out.push(skip ? b.subarray(skip) : b)
    skip = 0
  }
  return out
}

export async function discard(body: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of body) void _
}
