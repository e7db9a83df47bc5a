/**
 * The signed UploadPart URLs of one direct upload: signed in batches ahead of the chunks that need
 * them (each batch carries the parts' digests, so the bucket checks every part's bytes), kept while
 * fresh, and signed again when one expired, is about to, or was refused by the bucket.
 */
import type { UploadDescriptor } from '../src/shared/chunk-params.js'
import { DIRECT_BATCH_MAX, type SignRequest, type SignedPartAnswer } from '../src/shared/direct-protocol.js'
import { signParts, type DirectFailure } from './direct-requests.js'
import type { FileHashes } from './file-hashes.js'
import { PERMANENT_ERRORS, type Chunking } from './protocol.js'

/** A URL this close to its expiry is signed again: a PUT of a large part must start well before. */
const MAX_EXPIRY_MARGIN_MS = 60_000
const SIGN_ATTEMPTS = 20
const SIGN_RETRY_MS = 1000

/** A sign request failed for good; `failure` is the route's answer. */
export class SignRefused extends Error {
  constructor(readonly failure: DirectFailure) {
    super(`The route refused to sign (HTTP ${failure.status}).`)
  }
}

interface Signed {
  url: string
  headers: Record<string, string>
  /** In this browser's clock. */
  expiresAt: number
  margin: number
}

export interface PartUrlsContext {
  target: string
  file: UploadDescriptor
  chunking: Chunking
  hashes: FileHashes
  /** Parts the upload holds (from the server) or that this page sent: nothing to sign for them. */
  done(n: number): boolean
  /** The server said which parts it holds. */
  held(parts: number[]): void
  /** A sign request failed and is tried again. */
  retried(): void
  /**
   * How many parts the first batch signs (few, so the first PUTs start early); the batches signed
   * ahead sign up to DIRECT_BATCH_MAX, so that the app sees few requests.
   */
  batch: number
}

export class PartUrls {
  private readonly signed = new Map<number, Signed>()
  private readonly signing = new Map<number, Promise<void>>()
  /** Whether the server said which parts it holds: asked once, by this page's first sign request. */
  private heldKnown = false

  constructor(private readonly ctx: PartUrlsContext) {}

  fresh(n: number, now = Date.now()): boolean {
    const s = this.signed.get(n)
    return !!s && s.expiresAt - now > s.margin
  }

  get(n: number): Signed | undefined {
    return this.signed.get(n)
  }

  /** The bucket refused this URL: the next attempt signs a new one. */
  drop(n: number): void {
    this.signed.delete(n)
  }

  /** Makes sure part `n` has a fresh URL, signing it with the parts after it that need one. */
  async ensure(n: number): Promise<void> {
    if (this.fresh(n)) return
    const inFlight = this.signing.get(n)
    if (inFlight) {
      await inFlight
      if (this.fresh(n)) return
    }
    await this.sign(this.batchFrom(n, true, Math.min(DIRECT_BATCH_MAX, this.ctx.batch)))
  }

  /**
   * Signs the next batch in the background when fewer than `keep` parts after `n` are signed. A URL
   * that expires before its part's turn is signed again then (`ensure`), so a batch this large only
   * wastes signatures on a link too slow to send it within the URLs' lifetime.
   */
  ahead(n: number, keep: number): void {
    let ready = 0
    let next = n + 1
    for (; next <= this.ctx.hashes.parts && ready < keep; next += 1) {
      if (this.ctx.done(next)) continue
      if (!this.fresh(next) && !this.signing.has(next)) break
      ready += 1
    }
    if (ready >= keep || next > this.ctx.hashes.parts) return
    const batch = this.batchFrom(next, false, DIRECT_BATCH_MAX)
    if (batch.length) this.sign(batch).catch(() => undefined)
  }

  private batchFrom(n: number, includeFirst: boolean, size: number): number[] {
    const batch = includeFirst ? [n] : []
    for (let p = includeFirst ? n + 1 : n; p <= this.ctx.hashes.parts && batch.length < size; p += 1) {
      if (!this.ctx.done(p) && !this.fresh(p) && !this.signing.has(p)) batch.push(p)
    }
    return batch
  }

  private sign(parts: number[]): Promise<void> {
    const request = this.request(parts)
    for (const p of parts) this.signing.set(p, request)
    const release = (): void => { for (const p of parts) if (this.signing.get(p) === request) this.signing.delete(p) }
    request.then(release, release)
    return request
  }

  private async request(parts: number[]): Promise<void> {
    const { target, file, chunking, hashes } = this.ctx
    // One part read at a time: a batch of large parts read at once would hold them all in memory.
    const digests: string[] = []
    for (const p of parts) digests.push(await hashes.part(p))
    const body: SignRequest = { parts: parts.map((partNumber, i) => ({ partNumber, sha256: digests[i] })) }
    // Later, the page knows what it sent itself; what the route names to send again comes with the reports.
    if (!this.heldKnown) body.held = true
    for (let attempt = 1; ; attempt += 1) {
      const result = await signParts(target, file, chunking, body)
      if (result.ok) {
        // The server's clock says when a URL expires; this browser's clock may differ.
        const skew = result.serverDate === undefined ? 0 : result.serverDate - result.receivedAt
        for (const part of result.value.parts) this.keep(part, skew, result.receivedAt)
        if (result.value.held) {
          this.heldKnown = true
          this.ctx.held(result.value.held)
        }
        return
      }
      if (PERMANENT_ERRORS.includes(result.status) || attempt >= SIGN_ATTEMPTS) throw new SignRefused(result)
      this.ctx.retried()
      await new Promise((resolve) => { setTimeout(resolve, SIGN_RETRY_MS) })
    }
  }

  private keep(part: SignedPartAnswer, skew: number, receivedAt: number): void {
    const expiresAt = part.expiresAt - skew
    const margin = Math.min(MAX_EXPIRY_MARGIN_MS, Math.max(0, (expiresAt - receivedAt) / 3))
    this.signed.set(part.partNumber, { url: part.url, headers: part.headers, expiresAt, margin })
  }
}
