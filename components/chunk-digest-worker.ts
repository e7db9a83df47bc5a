/**
 * Where the edit component's chunk digests are computed. In Chromium, `crypto.subtle.digest` hashes
 * on the calling thread and `Blob.arrayBuffer()` copies the bytes in on it too: on the page, that
 * is the thread that also runs Resumable.js, React and every request's callbacks. So the reads and
 * digests run on a dedicated Web Worker, which answers with hex strings only.
 *
 * The components are bundled into one file, so the worker is made from a Blob URL of self-contained
 * source (as in file-hash-worker.ts): `workerMain` names nothing outside its own body. Where the
 * page cannot start it (no Worker, no Blob URLs, a Content-Security-Policy without `blob:` for
 * workers), or it fails to start later, the page reads and hashes the chunks itself, as before.
 */
import { digestHex } from '../src/shared/chunk-digest.js'

/** Where each chunk lies in a block of consecutive chunks: [start, end) from the block's start. */
export type ChunkRanges = Array<[number, number]>

/** The SHA-256 (lower-case hex) of each range of `block`, in order. */
export type DigestRanges = (block: Blob, ranges: ChunkRanges) => Promise<string[]>

interface DigestJob { id: number, block: Blob, ranges: ChunkRanges }
/** Digests, a block that could not be read, or a worker that cannot hash at all (no `crypto.subtle`). */
type DigestAnswer = { id: number, hex: string[] } | { id: number, error: string } | { id: number, unable: true }

interface WorkerScope {
  onmessage: ((event: { data: DigestJob }) => void) | null
  postMessage(answer: DigestAnswer): void
  FileReaderSync: new () => { readAsArrayBuffer(blob: Blob): ArrayBuffer }
}

/** The worker's body (see the file comment). Blocks are read one at a time, in the order posted. */
function workerMain(): void {
  const scope = globalThis as unknown as WorkerScope
  const hex = (digest: ArrayBuffer): string => Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')
  scope.onmessage = async (event) => {
    const { id, block, ranges } = event.data
    if (typeof crypto === 'undefined' || !crypto.subtle) {
      scope.postMessage({ id, unable: true })
      return
    }
    try {
      const bytes = new scope.FileReaderSync().readAsArrayBuffer(block)
      const digests: string[] = []
      for (const [start, end] of ranges) digests.push(hex(await crypto.subtle.digest('SHA-256', new Uint8Array(bytes, start, end - start))))
      scope.postMessage({ id, hex: digests })
    } catch (error) {
      scope.postMessage({ id, error: String((error as { message?: unknown } | null)?.message ?? error) })
    }
  }
}

/** On the page: one block read at a time (parallel reads only hold more memory), then its digests. */
export function pageDigests(): DigestRanges {
  let reading: Promise<unknown> = Promise.resolve()
  return (block, ranges) => {
    const bytes = reading.then(() => block.arrayBuffer())
    reading = bytes.then(() => undefined, () => undefined)
    return bytes.then((buffer) => Promise.all(ranges.map(async ([start, end]) => digestHex(
      await globalThis.crypto.subtle.digest('SHA-256', new Uint8Array(buffer, start, end - start)),
    ))))
  }
}

let sourceUrl: string | null | undefined

function startWorker(): Worker | null {
  if (typeof Worker !== 'function' || typeof URL.createObjectURL !== 'function') return null
  if (sourceUrl === undefined) {
    try {
      sourceUrl = URL.createObjectURL(new Blob([`(${workerMain.toString()})()`], { type: 'text/javascript' }))
    } catch {
      sourceUrl = null
    }
  }
  if (!sourceUrl) return null
  try {
    return new Worker(sourceUrl)
  } catch {
    // Chromium refuses a worker that the page's CSP does not allow right here.
    return null
  }
}

/** An idle worker is ended after this long; the next block starts a new one. */
const IDLE_MS = 30_000

/**
 * Digests computed on a worker, falling back to `fallback` for good once the worker cannot start or
 * fails (its `error` event: a CSP that refuses it; or it has no `crypto.subtle`): the blocks it
 * held are hashed by the fallback, so no chunk waits for a worker that will not answer. A block that
 * cannot be read fails as on the page.
 */
export function workerDigests(fallback: DigestRanges, start: () => Worker | null = startWorker): DigestRanges {
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
    for (const { job, resolve, reject } of held) fallback(job.block, job.ranges).then(resolve, reject)
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
      if ('hex' in answer && answer.hex.length === waiting.job.ranges.length) waiting.resolve(answer.hex)
      else waiting.reject(new Error('error' in answer ? answer.error : 'the digest worker answered the wrong number of digests'))
      if (!pending.size) idle = setTimeout(stop, IDLE_MS)
    }
    worker.onerror = (event) => {
      event.preventDefault()
      giveUp()
    }
    return worker
  }

  return (block, ranges) => {
    clearTimeout(idle)
    const running = started()
    if (!running) return fallback(block, ranges)
    const job: DigestJob = { id: nextId++, block, ranges }
    return new Promise<string[]>((resolve, reject) => {
      pending.set(job.id, { job, resolve, reject })
      running.postMessage(job)
    })
  }
}
