/**
 * Reports the ETags the bucket gave this page to the route, so that every app host knows within a
 * second which parts are held (a reload, another tab or another host resumes from there). What
 * arrives together goes in one report, one report at a time; the report that makes the upload whole
 * carries the file's SHA-256 and gets the reference, or the parts to send again.
 */
import type { UploadDescriptor } from '../src/shared/chunk-params.js'
import { DIRECT_BATCH_MAX, type PartsAnswer } from '../src/shared/direct-protocol.js'
import { reportParts, type DirectFailure } from './direct-requests.js'
import type { FileHashes } from './file-hashes.js'
import { PERMANENT_ERRORS, type Chunking } from './protocol.js'

/**
 * ETags that arrive within this long go in one report: few requests for the app, and the tables
 * still know within about a second which parts are held.
 */
const REPORT_DELAY_MS = 800
const REPORT_ATTEMPTS = 20
const REPORT_RETRY_MS = 1000

export interface ReporterContext {
  target: string
  file: UploadDescriptor
  chunking: Chunking
  hashes: FileHashes
  isHeld(n: number): boolean
  held(parts: number[]): void
  /** The route named parts to PUT again. */
  resend(parts: number[]): void
  /** A report failed for good while parts were still being sent. */
  failed(failure: DirectFailure): void
  /** False once the file was cancelled or replaced: nothing more is reported. */
  live(): boolean
}

export type FinishResult =
  | { reference: string }
  | { resending: true }
  | { unconfirmed: true }
  | { failure: DirectFailure }

type Sent = PartsAnswer | DirectFailure | null

const transient = (f: DirectFailure): boolean => !PERMANENT_ERRORS.includes(f.status)
const pause = (ms: number): Promise<void> => new Promise((resolve) => { setTimeout(resolve, ms) })

export class PartReporter {
  private readonly queue = new Map<number, string>()
  private readonly reported = new Set<number>()
  private timer: ReturnType<typeof setTimeout> | null = null
  private chain: Promise<unknown> = Promise.resolve()
  private failures = 0
  private reference: string | undefined
  private readonly leaving = (): void => this.reportOnLeave()

  constructor(private readonly ctx: ReporterContext) {}

  /** The bucket accepted part `n` with this ETag. */
  add(n: number, etag: string): void {
    this.reported.delete(n)
    this.queue.set(n, etag)
    this.schedule(REPORT_DELAY_MS)
  }

  /** Whether this page sent part `n` (reported or about to be). */
  sent(n: number): boolean {
    return this.queue.has(n) || this.reported.has(n)
  }

  forget(n: number): void {
    this.queue.delete(n)
    this.reported.delete(n)
  }

  /** Every part is sent: reports the rest with the file's SHA-256 and says how the upload ended. */
  async finish(): Promise<FinishResult> {
    for (let attempt = 1; ; attempt += 1) {
      let answer: Sent = null
      do answer = await this.enqueue(true)
      while (this.queue.size > 0 && answer !== null && !('ok' in answer))
      if (answer && 'ok' in answer) {
        if (transient(answer) && attempt < REPORT_ATTEMPTS) {
          await pause(REPORT_RETRY_MS)
          continue
        }
        return { failure: answer }
      }
      if (!answer) return { unconfirmed: true }
      if (answer.status === 'complete') return { reference: answer.reference }
      if (answer.status === 'resend') return { resending: true }
      const missing = this.missing()
      if (!missing.length) return { unconfirmed: true }
      this.ctx.resend(missing)
      return { resending: true }
    }
  }

  private missing(): number[] {
    const missing: number[] = []
    for (let n = 1; n <= this.ctx.hashes.parts; n += 1) if (!this.ctx.isHeld(n)) missing.push(n)
    return missing
  }

  private schedule(ms: number): void {
    if (this.timer) return
    globalThis.addEventListener?.('pagehide', this.leaving)
    this.timer = setTimeout(() => {
      this.timer = null
      globalThis.removeEventListener?.('pagehide', this.leaving)
      void this.enqueue(false)
    }, ms)
  }

  /** The tab closes or reloads before the next report: what is waiting goes at once, and outlives the page. */
  private reportOnLeave(): void {
    const batch = [...this.queue].slice(0, DIRECT_BATCH_MAX)
    if (!batch.length || !this.ctx.live()) return
    const fileSha256 = this.ctx.hashes.knownFileSha256()
    // A report that completes the upload must carry the file's digest; without it, the next page sends these again.
    if (!fileSha256 && this.completes(new Set(batch.map(([n]) => n)))) return
    void reportParts(this.ctx.target, this.ctx.file, this.ctx.chunking, {
      parts: batch.map(([partNumber, etag]) => ({ partNumber, etag })),
      ...(fileSha256 ? { fileSha256 } : {}),
    })
  }

  private enqueue(final: boolean): Promise<Sent> {
    const next = this.chain.then(() => this.send(final))
    this.chain = next.catch(() => undefined)
    return next
  }

  private async send(final: boolean): Promise<Sent> {
    if (this.reference) return { status: 'complete', reference: this.reference }
    if (!this.ctx.live()) return null
    const batch = [...this.queue].slice(0, DIRECT_BATCH_MAX)
    if (!batch.length && !final) return null
    const inBatch = new Set(batch.map(([n]) => n))
    let fileSha256 = this.ctx.hashes.knownFileSha256()
    if (!fileSha256 && (final || this.completes(inBatch))) {
      try {
        fileSha256 = await this.ctx.hashes.fileSha256()
      } catch {
        // The file could not be read just now (moved, changed): reported like a lost connection.
        return { ok: false, status: 0, answer: null, body: '' }
      }
    }
    const result = await reportParts(this.ctx.target, this.ctx.file, this.ctx.chunking, {
      parts: batch.map(([partNumber, etag]) => ({ partNumber, etag })),
      ...(fileSha256 ? { fileSha256 } : {}),
    })
    if (!result.ok) {
      this.failures += 1
      if (!final) {
        if (transient(result) && this.failures < REPORT_ATTEMPTS) this.schedule(REPORT_RETRY_MS)
        else this.ctx.failed(result)
      }
      return result
    }
    this.failures = 0
    for (const [n, etag] of batch) {
      if (this.queue.get(n) !== etag) continue
      this.queue.delete(n)
      this.reported.add(n)
    }
    const answer = result.value
    if (answer.status === 'partial') this.ctx.held(answer.held)
    else if (answer.status === 'complete') this.reference = answer.reference
    else {
      answer.parts.forEach((n) => this.forget(n))
      this.ctx.resend(answer.parts)
    }
    if (this.queue.size > 0 && !final) this.schedule(0)
    return answer
  }

  /** Whether the upload is whole once these parts are recorded: then the report needs the file's digest. */
  private completes(inBatch: Set<number>): boolean {
    for (let n = 1; n <= this.ctx.hashes.parts; n += 1) {
      if (!inBatch.has(n) && !this.reported.has(n) && !this.ctx.isHeld(n)) return false
    }
    return true
  }
}
