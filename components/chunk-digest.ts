/**
 * Per-chunk SHA-256 in the browser: Resumable.js calls `preprocess` before a chunk's test GET and
 * POST; it hashes the chunk's bytes (`crypto.subtle`, on a Web Worker where the page can start one:
 * chunk-digest-worker.ts) and the `query` function then adds the digest to both requests, so the
 * server can refuse a chunk damaged on the way and only answer "have it" for a chunk it holds with
 * these very bytes.
 *
 * Resumable.js keeps a chunk's upload slot idle while its `preprocess` runs, so hashing a chunk only
 * when its turn comes puts the file read and the digest in front of every request. Instead the
 * chunks of a file are hashed in order, a little ahead of the ones being sent, several small chunks
 * asked for at once: by its turn a chunk's digest is usually known.
 *
 * Where `crypto.subtle` is missing (a page served over plain HTTP to another host than localhost),
 * chunks go without a digest, as from any client that sends none.
 */
import { CHUNK_DIGEST_PARAM } from '../src/shared/chunk-digest.js'
import { pageDigests, workerDigests, type DigestChunks } from './chunk-digest-worker.js'
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

let digestChunks: DigestChunks | undefined

/** One digester for the page: its worker is started at the first chunk hashed, not on import. */
function digester(): DigestChunks {
  digestChunks ??= workerDigests(pageDigests())
  return digestChunks
}

export async function chunkDigest(chunk: ResumableChunk): Promise<string> {
  const [digest] = await digester()(chunk.fileObj.file, chunk.startByte, [chunk.endByte])
  return digest
}

/** Bytes hashed beyond the end of the chunk whose turn it is: a few chunks' worth. */
const HASH_AHEAD_BYTES = 16 * 1024 * 1024
/** Small chunks are asked for together up to this many bytes; a chunk larger than it alone. */
const READ_BLOCK_BYTES = 8 * 1024 * 1024

/** One file's hashing in chunk order: the digests under way by chunk index, and the next index. */
interface FileHashing {
  chunks: ResumableChunk[]
  next: number
  pending: Map<number, Promise<string>>
}

const hashing = new WeakMap<ResumableFile, FileHashing>()

/** Hashes the chunks first..last of `chunks` (consecutive bytes); one promise per chunk. */
function hashBlock(file: File, chunks: ResumableChunk[], first: number, last: number): Promise<string>[] {
  const ends = chunks.slice(first, last + 1).map((c) => c.endByte)
  const block = digester()(file, chunks[first].startByte, ends)
  return ends.map((_, i) => block.then((digests) => digests[i]))
}

/**
 * The digest of `chunk`, hashed in order with the chunks after it up to HASH_AHEAD_BYTES. A chunk
 * asked for again (its hashing failed, or the file's chunks were rebuilt) is hashed on its own.
 */
function digestInOrder(chunk: ResumableChunk): Promise<string> {
  const { fileObj } = chunk
  const { chunks } = fileObj
  const known = hashing.get(fileObj)
  const state: FileHashing = known && known.chunks === chunks ? known : { chunks, next: 0, pending: new Map() }
  hashing.set(fileObj, state)
  const index = chunk.offset
  if (chunks[index] !== chunk) return chunkDigest(chunk)
  if (state.next <= index && !state.pending.has(index)) state.next = index
  const horizon = chunk.endByte + HASH_AHEAD_BYTES
  while (state.next < chunks.length && (state.next <= index || chunks[state.next].startByte < horizon)) {
    const first = state.next
    let last = first
    while (last + 1 < chunks.length && chunks[last + 1].endByte - chunks[first].startByte <= READ_BLOCK_BYTES) last += 1
    const digests = hashBlock(fileObj.file, chunks, first, last)
    digests.forEach((digest, i) => state.pending.set(first + i, digest))
    state.next = last + 1
  }
  const digest = state.pending.get(index)
  state.pending.delete(index)
  return digest ?? chunkDigest(chunk)
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
      digestInOrder(chunk).then(
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
