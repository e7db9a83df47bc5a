/**
 * Per-chunk SHA-256 in the browser: Resumable.js calls `preprocess` before a chunk's test GET and
 * POST; it hashes the chunk's bytes (`crypto.subtle`, off the main thread in the browser's crypto)
 * and the `query` function then adds the digest to both requests, so the server can refuse a chunk
 * damaged on the way and only answer "have it" for a chunk it holds with these very bytes.
 *
 * Where `crypto.subtle` is missing (a page served over plain HTTP to another host than localhost),
 * chunks go without a digest, as from any client that sends none.
 */
import { CHUNK_DIGEST_PARAM, digestHex } from '../src/shared/chunk-digest.js'
import type { ResumableChunk, ResumableFile, ResumableOptions } from './resumable-types.js'

interface PreprocessedChunk extends ResumableChunk {
  preprocessFinished(): void
  /** 0 unprocessed, 1 processing, 2 done: Resumable.js 1.1.0 only starts chunks in state 0. */
  preprocessState: number
}

type Query = Record<string, string | number>

/** Resumable.js 1.1.0 options with the `preprocess` hook its bundled types lack. */
type WithPreprocess = ResumableOptions & { preprocess?: (chunk: PreprocessedChunk) => void }

const digests = new WeakMap<ResumableChunk, string>()
const rearmed = new WeakSet<ResumableChunk>()

/**
 * Resumable.js 1.1.0 never sends again a chunk that was preprocessed and then aborted (pause, or a
 * file-level abort): it only starts chunks whose preprocessing has not begun. Reset after an abort,
 * the chunk is picked again, and its preprocessing finishes at once from the digest already known.
 */
function rearmOnAbort(chunk: PreprocessedChunk): void {
  if (rearmed.has(chunk)) return
  rearmed.add(chunk)
  const abort = chunk.abort.bind(chunk)
  chunk.abort = () => {
    abort()
    if (chunk.preprocessState === 2) chunk.preprocessState = 0
  }
}

export function canHashChunks(): boolean {
  return typeof globalThis.crypto?.subtle?.digest === 'function'
}

export async function chunkDigest(chunk: ResumableChunk): Promise<string> {
  const bytes = await chunk.fileObj.file.slice(chunk.startByte, chunk.endByte).arrayBuffer()
  return digestHex(await globalThis.crypto.subtle.digest('SHA-256', bytes))
}

/** `options` with chunks hashed before they are sent and their digest in every chunk request. */
export function withChunkDigests(options: ResumableOptions): ResumableOptions {
  if (!canHashChunks()) return options
  const base = options.query
  const withDigests: WithPreprocess = {
    ...options,
    preprocess(chunk) {
      rearmOnAbort(chunk)
      if (digests.has(chunk)) {
        chunk.preprocessFinished()
        return
      }
      chunkDigest(chunk).then(
        (digest) => digests.set(chunk, digest),
        // Unreadable just now: the chunk goes without a digest; reading it for the POST fails as before.
        () => digests.delete(chunk),
      ).finally(() => chunk.preprocessFinished())
    },
    query(file: ResumableFile, chunk: ResumableChunk): Query {
      const fixed: Query = typeof base === 'function' ? base(file, chunk) : { ...base }
      const digest = digests.get(chunk)
      return digest ? { ...fixed, [CHUNK_DIGEST_PARAM]: digest } : fixed
    },
  }
  return withDigests
}
