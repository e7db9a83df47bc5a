import { Worker } from 'node:worker_threads'
import type { StagingStore } from '../store/staging.js'
import type { ChunkSink, UploadManifest } from '../store/types.js'
import { hashWorkerMain } from './hash-worker.js'

interface Answer {
  hex?: string | null
  error?: string
}

/** A finished file streamed to the thread waits for it past this many bytes not hashed yet. */
const STREAM_WINDOW = 8 * 1024 * 1024

/**
 * SHA-256 of uploads as their chunks arrive, computed in one worker thread per process, so that the
 * event loop never hashes a byte of it and no chunk request waits for it (see hash-worker.ts for how
 * the thread follows the chunks in order).
 *
 * Each chunk's bytes are copied to the thread as they stream to the store (the sink), so the prefix
 * grows from the bytes in hand and the digest is ready about one chunk's hashing after the last
 * chunk arrived. Chunks the thread has no bytes for (received by another process, or beyond the
 * memory bound) are read back from the staging file where the store names one (`stagedFiles`, the
 * local store); where it does not (S3: the parts cannot be read before the object is assembled) the
 * finished file is streamed through to the thread once, at completion.
 */
export class PrefixHashes {
  private worker: Worker | null = null
  private readonly asks = new Map<number, { resolve: (answer: Answer) => void; reject: (error: Error) => void }>()
  private nextAsk = 1
  private nextAttempt = 1
  /** Per streamed finished file: the bytes the thread has not hashed yet, and who waits for them. */
  private readonly streaming = new Map<number, { unacked: number; wake: (() => void) | null }>()

  /**
   * A sink that copies the chunk's bytes to the thread as they stream to the store. The thread
   * hashes the chunks in order and keeps those that arrive early (bounded). With a sink, the chunk
   * needs no `advance`: the sink's `held` tells the thread.
   */
  sink(store: StagingStore, manifest: UploadManifest, chunkNumber: number): ChunkSink {
    const attempt = this.nextAttempt++
    return {
      piece: (bytes) => {
        const copy = new Uint8Array(bytes)
        this.thread().postMessage({ type: 'chunk-piece', attempt, bytes: copy }, [copy.buffer])
      },
      held: (stored) => this.post({
        type: 'chunk-held', attempt, key: keyOf(stored), chunkNumber, files: store.stagedFiles?.(stored.id) ?? null, layout: layoutOf(stored),
      }),
      failed: () => this.post({ type: 'chunk-failed', attempt }),
    }
  }

  /**
   * Tells the thread that a chunk (`chunkNumber`, when known) was stored without a sink: it extends
   * the prefix from the staging file.
   */
  advance(store: StagingStore, manifest: UploadManifest, chunkNumber?: number): void {
    const files = store.stagedFiles?.(manifest.id)
    if (!files) return
    this.post({ type: 'advance', key: keyOf(manifest), files, layout: layoutOf(manifest), chunkNumber })
  }

  /** The file's SHA-256, hex, once the upload is complete. */
  async digest(store: StagingStore, manifest: UploadManifest): Promise<string> {
    const files = store.stagedFiles?.(manifest.id) ?? null
    const ask = this.nextAsk++
    const answer = await this.ask(ask, {
      type: 'digest', ask, key: keyOf(manifest), files, layout: layoutOf(manifest),
    })
    if (answer.hex) return answer.hex
    const finished = await store.finished(manifest.id)
    if (!finished) {
      this.post({ type: 'end', ask })
      throw new Error('the upload is not complete')
    }
    const window = { unacked: 0, wake: null as (() => void) | null }
    this.streaming.set(ask, window)
    try {
      for await (const piece of finished.read()) {
        // A copy of just these bytes, moved to the thread (a Buffer may view a larger pool).
        const bytes = new Uint8Array(piece as Buffer)
        window.unacked += bytes.length
        const worker = this.thread()
        worker.postMessage({ type: 'piece', ask, bytes }, [bytes.buffer])
        // Never more than a window ahead of the thread: the file is not held in memory.
        while (window.unacked > STREAM_WINDOW && this.worker === worker) await new Promise<void>((wake) => { window.wake = wake })
      }
    } catch (error) {
      this.post({ type: 'end', ask })
      throw error
    } finally {
      this.streaming.delete(ask)
    }
    const streamed = await this.ask(ask, { type: 'end', ask })
    if (!streamed.hex) throw new Error(`hashing failed: ${streamed.error}`)
    return streamed.hex
  }

  forget(manifest: UploadManifest): void {
    if (this.worker) this.post({ type: 'forget', key: keyOf(manifest) })
  }

  /** Stops the thread (it is unref'd: a process may also just exit). */
  async close(): Promise<void> {
    const worker = this.worker
    this.worker = null
    await worker?.terminate()
  }

  private thread(): Worker {
    if (this.worker) return this.worker
    const worker = new Worker(`(${hashWorkerMain.toString()})()`, { eval: true })
    worker.unref()
    worker.on('message', (answer: Answer & { ask: number; acked?: number }) => {
      if (answer.acked !== undefined) {
        const window = this.streaming.get(answer.ask)
        if (window) {
          window.unacked -= answer.acked
          const wake = window.wake
          window.wake = null
          wake?.()
        }
        return
      }
      const waiting = this.asks.get(answer.ask)
      this.asks.delete(answer.ask)
      waiting?.resolve(answer)
    })
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = null
      for (const waiting of this.asks.values()) waiting.reject(error)
      this.asks.clear()
      for (const window of this.streaming.values()) window.wake?.()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`the hashing thread exited (${code})`)))
    this.worker = worker
    return worker
  }

  private post(message: object): void {
    this.thread().postMessage(message)
  }

  private ask(ask: number, message: object): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      this.asks.set(ask, { resolve, reject })
      this.thread().ref()
      this.post(message)
    }).then((answer) => {
      if (!this.asks.size) this.worker?.unref()
      if (answer.error && answer.hex === undefined) throw new Error(`hashing failed: ${answer.error}`)
      return answer
    }, (error: Error) => {
      if (!this.asks.size) this.worker?.unref()
      throw error
    })
  }
}

function layoutOf(manifest: UploadManifest) {
  return { chunkSize: manifest.chunkSize, totalSize: manifest.totalSize, chunkCount: manifest.chunkCount }
}

/** A cancelled upload started again under the same id is another upload: its own hash. */
function keyOf(manifest: UploadManifest): string {
  return `${manifest.id}\0${manifest.createdAt}`
}
