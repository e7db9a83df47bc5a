import { Worker } from 'node:worker_threads'
import type { StagingStore } from '../store/staging.js'
import type { ChunkSink, UploadManifest } from '../store/types.js'
import { BatchPool, Batcher } from './batch-pool.js'
import { hashWorkerMain } from './hash-worker.js'

interface Answer {
  hex?: string | null
  error?: string
  stats?: { keptBytes: number; uploads: number }
  /** Batch buffers the thread is done with, moved back for reuse. */
  recycled?: ArrayBuffer[]
}

/** A finished file streamed to the thread waits for it past this many bytes not hashed yet. */
const STREAM_WINDOW = 8 * 1024 * 1024

/**
 * Free batch buffers kept for reuse: about what three 5 MiB chunks streaming at once need, so that
 * an idle process does not hold more.
 */
const POOL_KEEP = 16

/**
 * SHA-256 of uploads as their chunks arrive, computed in one worker thread per process (shared by
 * every feature), so that the event loop never hashes a byte of it and no chunk request waits for it
 * (see hash-worker.ts for how the thread follows the chunks in order).
 *
 * A store that names its staging files (`stagedFiles`, the local store) is read back by the thread
 * while the chunks are still in the page cache: the event loop posts one small message per stored
 * chunk and nothing is kept in memory, and the digest is ready about one chunk's hashing after the
 * last chunk arrived, whichever process received the chunks. A store without (S3: the parts cannot
 * be read before the object is assembled) copies each chunk's bytes to the thread as they stream to
 * the part (the sink); should that fail, its finished file is streamed through to the thread once,
 * at completion.
 */
export class PrefixHashes {
  /**
   * For a store without staged files (S3): a sink that copies the chunk's bytes to the thread as
   * they stream to the store. The thread hashes the chunks in order and keeps those that arrive
   * early (bounded; past the bound the digest reads the finished file). A store with staged files
   * needs none: `advance` after the chunk is stored.
   */
  sink(store: StagingStore, manifest: UploadManifest, chunkNumber: number): ChunkSink | undefined {
    if (store.stagedFiles) return undefined
    const thread = hashThread()
    const attempt = thread.nextAttempt++
    const batcher = new Batcher(thread.pool, (bytes) => thread.worker().postMessage({ type: 'chunk-piece', attempt, bytes }, [bytes.buffer]))
    return {
      piece: (bytes) => batcher.push(bytes),
      held: (stored) => {
        batcher.flush()
        thread.post({ type: 'chunk-held', attempt, key: keyOf(stored), chunkNumber })
      },
      failed: () => {
        batcher.drop()
        thread.post({ type: 'chunk-failed', attempt })
      },
    }
  }

  /**
   * Tells the thread that a chunk was stored: it extends the prefix with the chunks now held.
   * `replaced` names the chunk when the store replaced its held bytes: if the prefix took in the
   * old ones, it starts over. Only then: the announcements of chunks stored together arrive in any
   * order, and the thread may have hashed a chunk (seen held on disk) before its own announcement.
   */
  advance(store: StagingStore, manifest: UploadManifest, replaced?: number): void {
    const files = store.stagedFiles?.(manifest.id)
    if (!files) return
    hashThread().post({ type: 'advance', key: keyOf(manifest), files, layout: layoutOf(manifest), replaced })
  }

  /** The file's SHA-256, hex, once the upload is complete. */
  async digest(store: StagingStore, manifest: UploadManifest): Promise<string> {
    const thread = hashThread()
    const files = store.stagedFiles?.(manifest.id) ?? null
    const ask = thread.nextAsk++
    const answer = await thread.ask(ask, { type: 'digest', ask, key: keyOf(manifest), files, layout: layoutOf(manifest) })
    if (answer.hex) return answer.hex
    const finished = await store.finished(manifest.id)
    if (!finished) {
      thread.post({ type: 'end', ask })
      throw new Error('the upload is not complete')
    }
    const window = { unacked: 0, wake: null as (() => void) | null }
    thread.streaming.set(ask, window)
    const batcher = new Batcher(thread.pool, (bytes) => {
      window.unacked += bytes.length
      thread.worker().postMessage({ type: 'piece', ask, bytes }, [bytes.buffer])
    })
    try {
      for await (const piece of finished.read()) {
        batcher.push(piece as Buffer)
        // Never more than a window ahead of the thread: the file is not held in memory.
        const worker = thread.worker()
        while (window.unacked > STREAM_WINDOW && thread.current === worker) await new Promise<void>((wake) => { window.wake = wake })
      }
      batcher.flush()
    } catch (error) {
      batcher.drop()
      thread.post({ type: 'end', ask })
      throw error
    } finally {
      thread.streaming.delete(ask)
    }
    const streamed = await thread.ask(ask, { type: 'end', ask })
    if (!streamed.hex) throw new Error(`hashing failed: ${streamed.error}`)
    return streamed.hex
  }

  forget(manifest: UploadManifest): void {
    if (shared?.current) shared.post({ type: 'forget', key: keyOf(manifest) })
  }

  /** What the thread holds now: bytes kept for hashing (all uploads together) and uploads followed. */
  async stats(): Promise<{ keptBytes: number; uploads: number }> {
    const thread = hashThread()
    const ask = thread.nextAsk++
    return (await thread.ask(ask, { type: 'stats', ask })).stats!
  }

  /** Batch buffers the process allocated so far to carry bytes to the thread (reused ones count once). */
  batchBuffers(): number {
    return hashThread().pool.allocated
  }

  /** Stops the process's hashing thread (it is unref'd: a process may also just exit). */
  async close(): Promise<void> {
    await shared?.close()
  }
}

/** The process's one hashing thread, started on first use, started again after it died. */
class HashThread {
  current: Worker | null = null
  readonly pool = new BatchPool(POOL_KEEP)
  nextAsk = 1
  nextAttempt = 1
  private readonly asks = new Map<number, { resolve: (answer: Answer) => void; reject: (error: Error) => void }>()
  /** Per streamed finished file: the bytes the thread has not hashed yet, and who waits for them. */
  readonly streaming = new Map<number, { unacked: number; wake: (() => void) | null }>()

  worker(): Worker {
    if (this.current) return this.current
    const worker = new Worker(`(${hashWorkerMain.toString()})()`, { eval: true })
    worker.unref()
    // Spent batches come back alone (no `ask`) or with the ack of a streamed piece.
    worker.on('message', (answer: Answer & { ask?: number; acked?: number }) => {
      if (answer.recycled) this.pool.give(answer.recycled)
      const ask = answer.ask
      if (ask === undefined) return
      if (answer.acked !== undefined) {
        const window = this.streaming.get(ask)
        if (window) {
          window.unacked -= answer.acked
          const wake = window.wake
          window.wake = null
          wake?.()
        }
        return
      }
      const waiting = this.asks.get(ask)
      this.asks.delete(ask)
      waiting?.resolve(answer)
    })
    const fail = (error: Error) => {
      if (this.current === worker) this.current = null
      for (const waiting of this.asks.values()) waiting.reject(error)
      this.asks.clear()
      for (const window of this.streaming.values()) window.wake?.()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`the hashing thread exited (${code})`)))
    this.current = worker
    return worker
  }

  post(message: object): void {
    this.worker().postMessage(message)
  }

  ask(ask: number, message: object): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      this.asks.set(ask, { resolve, reject })
      this.worker().ref()
      this.post(message)
    }).then((answer) => {
      if (!this.asks.size) this.current?.unref()
      if (answer.error && answer.hex === undefined) throw new Error(`hashing failed: ${answer.error}`)
      return answer
    }, (error: Error) => {
      if (!this.asks.size) this.current?.unref()
      throw error
    })
  }

  async close(): Promise<void> {
    const worker = this.current
    this.current = null
    await worker?.terminate()
  }
}

let shared: HashThread | null = null

function hashThread(): HashThread {
  shared ??= new HashThread()
  return shared
}

function layoutOf(manifest: UploadManifest) {
  return { chunkSize: manifest.chunkSize, totalSize: manifest.totalSize, chunkCount: manifest.chunkCount }
}

/** A cancelled upload started again under the same id is another upload: its own hash. */
function keyOf(manifest: UploadManifest): string {
  return `${manifest.id}\0${manifest.createdAt}`
}
