/**
 * One file's direct upload: its digests, its signed URLs, the parts the server holds and the ETags
 * still to report, and what each chunk does next (confirm a held part by the test GET, or PUT it).
 */
import type { UploadDescriptor } from '../src/shared/chunk-params.js'
import { DIRECT_BATCH_MAX } from '../src/shared/direct-protocol.js'
import type { DirectFailure } from './direct-requests.js'
import { FileHashes } from './file-hashes.js'
import { PartReporter, type FinishResult } from './part-reporter.js'
import { PartUrls } from './part-urls.js'
import type { Chunking } from './protocol.js'
import type { ResumableChunk, ResumableFile } from './resumable-types.js'

/** A part the route names for sending again this often is a failure, not bad luck. */
const MAX_RESENDS = 3

/** Resumable.js 1.1.0 chunk internals that direct mode drives (see resumable.js `send`/`test`). */
export interface DirectChunk extends ResumableChunk {
  preprocessState: number
  tested: boolean
  preprocessFinished(): void
}

export interface DirectFileContext {
  target: string
  chunking: Chunking
  simultaneousUploads: number
  /** Parts failed for good: the file stops and the component shows why. */
  failed(failure: DirectFailure | null, message?: string): void
  retried(): void
}

export class DirectFile {
  readonly hashes: FileHashes
  readonly urls: PartUrls
  readonly reporter: PartReporter
  /** Set when the file stopped on a failure; a new attempt (Retry) clears it. */
  stoppedOnFailure = false
  private readonly held = new Set<number>()
  private readonly refusals = new Map<number, number>()
  private readonly resends = new Map<number, number>()

  constructor(readonly f: ResumableFile, descriptor: UploadDescriptor, private readonly ctx: DirectFileContext) {
    const { target, chunking } = ctx
    this.hashes = new FileHashes(f.file, { ...chunking, totalSize: f.size })
    const done = (n: number): boolean => this.held.has(n) || this.reporter.sent(n)
    const held = (parts: number[]): void => { parts.forEach((p) => this.held.add(p)) }
    this.urls = new PartUrls({
      target, file: descriptor, chunking, hashes: this.hashes, done, held,
      retried: () => ctx.retried(),
      batch: Math.max(4, 2 * ctx.simultaneousUploads),
    })
    this.reporter = new PartReporter({
      target, file: descriptor, chunking, hashes: this.hashes, held,
      isHeld: (n) => this.held.has(n),
      resend: (parts) => this.resend(parts),
      failed: (failure) => ctx.failed(failure),
      live: () => f.resumableObj.files.includes(f),
    })
  }

  /**
   * Readies part `n` to go: its digest for the requests, and unless the server holds it, a fresh
   * signed URL (and the next ones signed in the background). `tested`: its test GET said "send it".
   */
  async prepare(n: number, tested: boolean): Promise<'held' | 'send'> {
    this.hashes.start()
    await this.hashes.part(n)
    if (tested) this.held.delete(n)
    else if (this.held.has(n)) return 'held'
    await this.urls.ensure(n)
    if (!tested && this.held.has(n)) return 'held'
    // Without a URL the chunk would be readied again and again: the route must sign what it is asked.
    if (!this.urls.fresh(n)) throw new Error(`The route did not sign part ${n}.`)
    // Half a batch ahead: the next batch is signed (and its parts read and hashed) while the parts
    // signed before it are sent.
    this.urls.ahead(n, Math.max(this.ctx.simultaneousUploads, DIRECT_BATCH_MAX / 2))
    return 'send'
  }

  /** Follows the PUT of part `n`: an ETag is reported, a refused URL is signed again once. */
  watch(n: number, chunk: ResumableChunk): void {
    const xhr = chunk.xhr
    if (!xhr) return
    xhr.addEventListener('readystatechange', () => {
      // Before Resumable.js's own `load` handler: its verdict on the chunk can still be changed.
      if (xhr.readyState !== 4 || !xhr.status) return
      if (xhr.status === 200 || xhr.status === 201) {
        this.refusals.delete(n)
        const etag = xhr.getResponseHeader('ETag')
        if (etag) this.reporter.add(n, etag)
        else this.ctx.failed(null, 'The bucket accepted a part but its ETag cannot be read: its CORS rule must expose ETag.')
        return
      }
      if (xhr.status !== 403) return
      this.urls.drop(n)
      const refused = (this.refusals.get(n) ?? 0) + 1
      this.refusals.set(n, refused)
      // A freshly signed URL refused too will not get better: Resumable.js gives the chunk up.
      if (refused > 1) chunk.retries = Number.MAX_SAFE_INTEGER
    })
  }

  finish(): Promise<FinishResult> {
    return this.reporter.finish()
  }

  /** The file was cancelled, removed or picked anew: its hash worker stops now, not when the page closes. */
  close(): void {
    this.hashes.close()
  }

  /** The route named these parts to PUT again (refused at completion, or never held). */
  private resend(parts: number[]): void {
    const f = this.f
    for (const n of parts) {
      const count = (this.resends.get(n) ?? 0) + 1
      this.resends.set(n, count)
      if (count > MAX_RESENDS) {
        this.ctx.failed(null, `Part ${n} was refused by the bucket ${MAX_RESENDS} times.`)
        return
      }
      this.held.delete(n)
      this.reporter.forget(n)
      // Signed again even if its URL is still fresh: the route forgot the refused part with the
      // digest it signed, and records a part's ETag only under a digest it signed.
      this.urls.drop(n)
      const chunk = f.chunks[n - 1] as DirectChunk | undefined
      if (!chunk) continue
      chunk.abort()
      chunk.preprocessState = 0
      chunk.tested = true
    }
    f.pause(false)
    f.resumableObj.upload()
  }
}
