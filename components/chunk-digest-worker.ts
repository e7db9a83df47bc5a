/**
 * Where the edit component's chunk digests are computed. In Chromium, `crypto.subtle.digest` hashes
 * on the calling thread and `Blob.arrayBuffer()` copies the bytes in on it too: on the page, that
 * is the thread that also runs Resumable.js, React and every request's callbacks. So the reads and
 * digests run on a dedicated Web Worker, which answers with hex strings only.
 *
 * The worker is made from a Blob URL (blob-worker.ts): `workerMain` and `createChunkReader` name
 * nothing outside their own bodies. Where the page cannot start it (no Worker, no Blob URLs, a
 * Content-Security-Policy without `blob:` for workers), or it fails to start later, the page reads
 * and hashes the chunks itself with the same reader.
 */
import { blobWorkerStarter } from './blob-worker.js'
import { createChunkReader, type ChunkReader } from './chunk-digest-reader.js'

/** The SHA-256 (lower-case hex) of the chunks [start, ends[0]), [ends[0], ends[1]), ... of `file`. */
export type DigestChunks = (file: Blob, start: number, ends: number[]) => Promise<string[]>

interface DigestJob { id: number, file: Blob, key: number, start: number, ends: number[] }
/** Digests, a file that could not be read, or a worker that cannot hash at all (no `crypto.subtle`). */
type DigestAnswer = { id: number, hex: string[] } | { id: number, error: string } | { id: number, unable: true }

interface WorkerScope {
  onmessage: ((event: { data: DigestJob }) => void) | null
  postMessage(answer: DigestAnswer): void
}

/** The worker's body; runs in the worker with `createChunkReader` passed in (see the file comment). */
function workerMain(create: () => ChunkReader): void {
  const scope = globalThis as unknown as WorkerScope
  const reader = create()
  scope.onmessage = (event) => {
    const { id, file, key, start, ends } = event.data
    if (typeof crypto === 'undefined' || !crypto.subtle) {
      scope.postMessage({ id, unable: true })
      return
    }
    reader.digests(file, key, start, ends).then(
      (hex) => scope.postMessage({ id, hex }),
      (error: unknown) => scope.postMessage({ id, error: String((error as { message?: unknown } | null)?.message ?? error) }),
    )
  }
}

const keys = new WeakMap<Blob, number>()
let nextKey = 0

/** A number per file: a File posted to a worker arrives as a new object each time. */
function keyOf(file: Blob): number {
  let key = keys.get(file)
  if (key === undefined) {
    key = nextKey++
    keys.set(file, key)
  }
  return key
}

/** On the page, where no worker runs. */
export function pageDigests(): DigestChunks {
  const reader = createChunkReader()
  return (file, start, ends) => reader.digests(file, keyOf(file), start, ends)
}

const startWorker = blobWorkerStarter(() => `(${workerMain.toString()})(${createChunkReader.toString()})`)

/** An idle worker is ended after this long; the next chunks to hash start a new one. */
const IDLE_MS = 30_000

/**
 * Digests computed on a worker, falling back to `fallback` for good once the worker cannot start or
 * fails (its `error` event: a CSP that refuses it; or it has no `crypto.subtle`): the chunks it
 * held are hashed by the fallback, so no chunk waits for a worker that will not answer. Chunks that
 * cannot be read fail as on the page.
 */
export function workerDigests(fallback: DigestChunks, start: () => Worker | null = startWorker): DigestChunks {
  let worker: Worker | null = null
  let broken = false
  let nextId = 0
  let idle: ReturnType<typeof setTimeout> | undefined
  const pending = new Map<number, { job: DigestJob, resolve(hex: string[]): void, reject(error: Error): void }>()

  const stop = (): void => {
    worker?.terminate()
    worker = null
  }
  const giveUp = (): void => {
    broken = true
    stop()
    const held = [...pending.values()]
    pending.clear()
    for (const { job, resolve, reject } of held) fallback(job.file, job.start, job.ends).then(resolve, reject)
  }
  const started = (): Worker | null => {
    if (worker || broken) return worker
    worker = start()
    if (!worker) {
      broken = true
      return null
    }
    worker.onmessage = (event: MessageEvent<DigestAnswer>) => {
      const answer = event.data
      if ('unable' in answer) {
        giveUp()
        return
      }
      const waiting = pending.get(answer.id)
      if (!waiting) return
      pending.delete(answer.id)
      if ('hex' in answer && answer.hex.length === waiting.job.ends.length) waiting.resolve(answer.hex)
      else waiting.reject(new Error('error' in answer ? answer.error : 'the digest worker answered the wrong number of digests'))
      if (!pending.size) idle = setTimeout(stop, IDLE_MS)
    }
    worker.onerror = (event) => {
      event.preventDefault()
      giveUp()
    }
    return worker
  }

  return (file, start, ends) => {
    clearTimeout(idle)
    const running = started()
    if (!running) return fallback(file, start, ends)
    const job: DigestJob = { id: nextId++, file, key: keyOf(file), start, ends }
    return new Promise<string[]>((resolve, reject) => {
      pending.set(job.id, { job, resolve, reject })
      running.postMessage(job)
    })
  }
}
