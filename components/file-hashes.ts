/**
 * The digests a direct upload carries: each part's SHA-256 (signed into its URL, so the bucket
 * checks the bytes), and the whole file's, hashed in order alongside the upload for the report that
 * completes it. Part digests use WebCrypto where the page has it. The file's needs an incremental
 * hash (sha256-stream.ts): it runs on a worker (file-hash-worker.ts), fed the very bytes each part
 * digest read, so each byte is read once for hashing; where the page cannot start a worker, it runs
 * here in slices so that the page stays responsive.
 */
import { chunkCount, chunkLength, chunkOffset, type ChunkLayout } from '../src/shared/arithmetic.js'
import { digestHex } from '../src/shared/chunk-digest.js'
import { startHashWorker, type HashAnswer, type HashFeed } from './file-hash-worker.js'
import { Sha256 } from './sha256-stream.js'

/** What the file hash reads at once on the page: small enough that one update never blocks it for long. */
const FILE_HASH_SLICE = 2 * 1024 * 1024
/**
 * Part bytes kept for the file hash (read ahead of their turn, or posted and not yet hashed) are at
 * most this much: past it the worker reads those parts again itself, so memory stays bounded when
 * parts are read faster than hashed (a resumed upload reads its held parts at disk speed).
 */
const FEED_AHEAD_MAX = 64 * 1024 * 1024

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const subtle = globalThis.crypto?.subtle
  if (typeof subtle?.digest === 'function') return digestHex(await subtle.digest('SHA-256', bytes))
  return new Sha256().update(new Uint8Array(bytes)).hex()
}

/** The worker itself failed (a page whose CSP refuses Blob URL workers): the page hashes from then on. */
class WorkerFailed extends Error {}

/** The file's upload ended before its hash was needed (cancelled, removed). */
export class HashClosed extends Error {
  constructor() {
    super('The file hash was stopped: its upload ended.')
  }
}

/** Feeds one worker the file in order: parts whose bytes are in hand, the others as slices to read. */
class WorkerFeed {
  readonly result: Promise<string>
  private next = 1
  /** Parts ready ahead of their turn: their bytes, or null for "read the slice". */
  private readonly ahead = new Map<number, ArrayBuffer | null>()
  /** Bytes held ahead here, or posted and not yet hashed. */
  private keptBytes = 0
  private ended = false
  private stop: (error: Error) => void = () => undefined

  constructor(private readonly worker: Worker, private readonly slice: (n: number) => Blob, private readonly parts: number) {
    this.result = new Promise<string>((resolve, reject) => {
      this.stop = reject
      worker.onmessage = (event: MessageEvent<HashAnswer>) => {
        if ('hashed' in event.data) {
          this.keptBytes -= event.data.hashed
          return
        }
        worker.terminate()
        if ('hex' in event.data) resolve(event.data.hex)
        else reject(new Error(`The file could not be read for its SHA-256: ${event.data.error}`))
      }
      worker.onerror = (event) => {
        event.preventDefault()
        worker.terminate()
        reject(new WorkerFailed('The file hash worker failed.'))
      }
    })
    this.result.catch(() => undefined)
    this.end()
  }

  /** The worker goes at once: a worker left running holds its thread and the bytes posted to it until the page closes. */
  close(): void {
    this.worker.terminate()
    this.stop(new HashClosed())
  }

  /** Part `n` was read; `bytes` are handed over (detached here) if the hash still needs them. */
  offer(n: number, bytes: ArrayBuffer | null): void {
    if (n < this.next || this.ahead.has(n)) return
    const keep = bytes && this.keptBytes + bytes.byteLength <= FEED_AHEAD_MAX ? bytes : null
    if (keep) this.keptBytes += keep.byteLength
    this.ahead.set(n, keep)
    this.flush()
  }

  /** Every part not yet fed nor read is fed as a slice the worker reads itself. */
  fill(reading: (n: number) => boolean): void {
    for (let n = this.next; n <= this.parts; n += 1) if (!this.ahead.has(n) && !reading(n)) this.ahead.set(n, null)
    this.flush()
  }

  private flush(): void {
    for (let part = this.ahead.get(this.next); this.ahead.has(this.next); part = this.ahead.get(this.next)) {
      this.ahead.delete(this.next)
      if (part) {
        this.post({ bytes: part }, [part])
      } else {
        this.post({ blob: this.slice(this.next) })
      }
      this.next += 1
    }
    this.end()
  }

  private end(): void {
    if (this.ended || this.next <= this.parts) return
    this.ended = true
    this.post({ end: true })
  }

  private post(feed: HashFeed, transfer: Transferable[] = []): void {
    this.worker.postMessage(feed, transfer)
  }
}

export class FileHashes {
  readonly parts: number
  private readonly digests = new Map<number, Promise<string>>()
  private readonly done = new Map<number, string>()
  private feed: WorkerFeed | null = null
  private noWorker = false
  private closed = false
  private whole: Promise<string> | null = null
  private wholeDone: string | undefined

  constructor(private readonly file: Blob, private readonly layout: ChunkLayout) {
    this.parts = chunkCount(layout)
  }

  /** Part `n`'s SHA-256 (1-based), read once; a failed read is tried again on the next call. */
  part(n: number): Promise<string> {
    let digest = this.digests.get(n)
    if (!digest) {
      digest = this.slice(n).arrayBuffer().then(async (bytes) => {
        const hex = await sha256Hex(bytes)
        // After the digest: the bytes move to the file hash's worker and are gone from here.
        this.feed?.offer(n, bytes)
        return hex
      })
      digest.then((hex) => this.done.set(n, hex), () => {
        this.digests.delete(n)
        this.feed?.offer(n, null)
      })
      this.digests.set(n, digest)
    }
    return digest
  }

  /** Part `n`'s digest if it is known already, for the requests that cannot wait for it. */
  knownPart(n: number): string | undefined {
    return this.done.get(n)
  }

  /** Starts the whole file's hash, fed from here on by the parts' reads. */
  start(): void {
    if (this.whole || this.closed) return
    const worker = this.noWorker ? null : startHashWorker()
    if (!worker) {
      this.noWorker = true
      this.settle(this.hashHere())
      return
    }
    const feed = new WorkerFeed(worker, (n) => this.slice(n), this.parts)
    this.feed = feed
    // Parts read before the worker started are read again by the worker.
    for (const n of this.done.keys()) feed.offer(n, null)
    this.settle(feed.result)
  }

  /**
   * The whole file's SHA-256: parts not read by now are read by the worker itself. A worker that
   * fails (a CSP that refuses Blob URL workers fails it only once it tries to load) is replaced by
   * the hash on the page, so whoever waits gets the digest, not the worker's failure.
   */
  async fileSha256(): Promise<string> {
    for (;;) {
      this.start()
      const whole = this.whole
      if (!whole) throw new HashClosed()
      this.feed?.fill((n) => this.digests.has(n) && !this.done.has(n))
      try {
        return await whole
      } catch (error) {
        if (!(error instanceof WorkerFailed)) throw error
        this.forget(whole, error)
      }
    }
  }

  /** The upload ended: the worker stops now, and none starts again. */
  close(): void {
    this.closed = true
    this.feed?.close()
  }

  knownFileSha256(): string | undefined {
    return this.wholeDone
  }

  private settle(whole: Promise<string>): void {
    this.whole = whole
    whole.then((hex) => { this.wholeDone = hex }, (error: unknown) => this.forget(whole, error))
  }

  /** A failed hash is tried again from the start on the next call (the file may be readable again). */
  private forget(whole: Promise<string>, error: unknown): void {
    if (error instanceof WorkerFailed) this.noWorker = true
    if (this.whole !== whole) return
    this.whole = null
    this.feed = null
  }

  private slice(n: number): Blob {
    const start = chunkOffset(this.layout, n)
    return this.file.slice(start, start + chunkLength(this.layout, n))
  }

  private async hashHere(): Promise<string> {
    const hash = new Sha256()
    for (let offset = 0; offset < this.file.size; offset += FILE_HASH_SLICE) {
      if (this.closed) throw new HashClosed()
      hash.update(new Uint8Array(await this.file.slice(offset, offset + FILE_HASH_SLICE).arrayBuffer()))
    }
    return hash.hex()
  }
}
