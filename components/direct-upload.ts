/**
 * Direct mode of the edit components (`storage.s3.upload: 'direct'`): Resumable.js PUTs each chunk
 * to the bucket under a URL the chunk route signed for exactly that part, and the route only signs,
 * records and completes (src/shared/direct-protocol.ts). Resumable.js 1.1.0 is steered through its
 * own options: `preprocess` readies each chunk (digest, signed URL), `target` gives the chunk's URL,
 * `headers` the signed headers; the test GET still goes to the app, which answers from the parts it
 * recorded, so a reload sends only what the server lacks.
 */
import type { ResumableCustom } from '../src/shared/custom.js'
import { CHUNK_DIGEST_PARAM } from '../src/shared/chunk-digest.js'
import { PARAM } from '../src/shared/chunk-params.js'
import { DirectFile, type DirectChunk } from './direct-file.js'
import type { DirectFailure } from './direct-requests.js'
import type { FinishResult } from './part-reporter.js'
import { REQUEST_HEADERS, type Chunking, type ReferenceResult, type ServerAnswer } from './protocol.js'
import { descriptorOf, failureMessage } from './resumable-setup.js'
import { SignRefused } from './part-urls.js'
import type { ResumableFile, ResumableOptions } from './resumable-types.js'

/** What direct mode tells the controller that owns the Resumable.js instance. */
export interface DirectHooks {
  failed(f: ResumableFile, answer: ServerAnswer | null, message: string | undefined): void
  retried(f: ResumableFile): void
}

/** Headers a page may not set (the browser sends them itself), though a signature may name them. */
const BROWSER_SET = new Set(['content-length', 'host'])

/** A URL no request can reach: a chunk that lost its signed URL fails fast and is readied again. */
const NO_URL = 'data:,'

function paramOf(params: string[], name: string): string | undefined {
  const prefix = `${name}=`
  const found = params.find((p) => p.startsWith(prefix))
  return found === undefined ? undefined : decodeURIComponent(found.slice(prefix.length))
}

/** Whether the property's storage takes chunks straight from the browser. */
export function isDirect(custom: ResumableCustom): boolean {
  return custom.upload === 'direct'
}

/** Direct mode for a controller, or null when the property uploads through the app. */
export function directMode(
  custom: ResumableCustom,
  target: () => string,
  chunking: () => Chunking,
  hooks: DirectHooks,
): DirectUploads | null {
  return isDirect(custom) ? new DirectUploads(target, chunking, custom.simultaneousUploads, hooks) : null
}

export class DirectUploads {
  private readonly files = new Map<string, DirectFile>()

  constructor(
    private readonly target: () => string,
    private readonly chunking: () => Chunking,
    private readonly simultaneousUploads: number,
    private readonly hooks: DirectHooks,
  ) {}

  /** `base` (the route's options) turned to direct PUTs. */
  options(base: ResumableOptions): ResumableOptions {
    const options: ResumableOptions & { preprocess(chunk: DirectChunk): void } = {
      ...base,
      target: (params) => this.urlOf(params),
      testTarget: this.target(),
      uploadMethod: 'PUT',
      method: 'octet',
      // The bucket's CORS allows no credentials; the test GET goes to the page's own origin, which
      // gets the session cookie anyway.
      withCredentials: false,
      // A 403 from the bucket is an expired or refused URL: signed again, and given up the second time.
      permanentErrors: (base.permanentErrors ?? []).filter((status) => status !== 403),
      headers: (file, chunk) => this.headers(file, chunk as DirectChunk),
      query: (file, chunk): Record<string, string> => {
        const digest = this.files.get(file.uniqueIdentifier)?.hashes.knownPart(chunk.offset + 1)
        return digest ? { [CHUNK_DIGEST_PARAM]: digest } : {}
      },
      preprocess: (chunk) => this.preprocess(chunk),
    }
    return options
  }

  /** Every chunk is PUT: the report that completes the upload, as the component's reference result. */
  async finish(f: ResumableFile): Promise<ReferenceResult> {
    const direct = this.files.get(f.uniqueIdentifier)
    if (!direct || direct.f !== f) return {}
    const result: FinishResult = await direct.finish()
    if ('reference' in result) return { reference: result.reference }
    if ('resending' in result) return { resending: true }
    if ('failure' in result) return { answer: result.failure.answer, status: result.failure.status || undefined }
    return {}
  }

  /**
   * The form went away (the admin is a single page: the page lives on). Every file's hash worker
   * stops; a file picked again later resumes its parts and hashes anew.
   */
  close(): void {
    for (const direct of this.files.values()) direct.close()
    this.files.clear()
  }

  private fileOf(f: ResumableFile): DirectFile {
    let direct = this.files.get(f.uniqueIdentifier)
    if (!direct || direct.f !== f) {
      direct?.close()
      this.watchRemovals(f.resumableObj)
      direct = new DirectFile(f, descriptorOf(f), {
        target: this.target(),
        chunking: this.chunking(),
        simultaneousUploads: this.simultaneousUploads,
        failed: (failure, message) => this.fail(f, failure, message),
        retried: () => this.hooks.retried(f),
      })
      this.files.set(f.uniqueIdentifier, direct)
    }
    return direct
  }

  /**
   * Resumable.js 1.1.0 fires no event when a file goes (cancel, or the controller removing it), and
   * every way out passes `removeFile`: that is where the file's direct upload is closed.
   */
  private watchRemovals(r: ResumableFile['resumableObj']): void {
    const marked = r as typeof r & { directWatched?: boolean }
    if (marked.directWatched) return
    marked.directWatched = true
    const removeFile = r.removeFile.bind(r)
    r.removeFile = (removed: ResumableFile) => {
      removeFile(removed)
      const direct = this.files.get(removed.uniqueIdentifier)
      if (direct?.f !== removed) return
      direct.close()
      this.files.delete(removed.uniqueIdentifier)
    }
  }

  private preprocess(chunk: DirectChunk): void {
    const f = chunk.fileObj
    const direct = this.fileOf(f)
    if (direct.stoppedOnFailure && !f.isPaused()) direct.stoppedOnFailure = false
    this.rearm(chunk, direct)
    const current = (): boolean => f.chunks[chunk.offset] === chunk && f.resumableObj.files.includes(f)
    direct.prepare(chunk.offset + 1, chunk.tested).then((next) => {
      if (!current() || f.isPaused()) {
        // Picked again when the file is resumed.
        chunk.preprocessState = 0
        return
      }
      if (next === 'send') chunk.tested = true
      chunk.preprocessFinished()
    }, (error: unknown) => {
      chunk.preprocessState = 0
      if (!current()) return
      if (error instanceof SignRefused) this.fail(f, error.failure)
      else this.fail(f, null)
    })
  }

  /**
   * Resumable.js 1.1.0 only starts chunks whose preprocessing has not begun, and sends a retry
   * without it. Reset on abort (pause, retry), a chunk is readied again, which signs a new URL if
   * its own expired; and a chunk about to PUT without a fresh URL is readied first.
   */
  private rearm(chunk: DirectChunk, direct: DirectFile): void {
    const marked = chunk as DirectChunk & { directArmed?: boolean }
    if (marked.directArmed) return
    marked.directArmed = true
    const abort = chunk.abort.bind(chunk)
    chunk.abort = () => {
      abort()
      if (chunk.preprocessState === 2) chunk.preprocessState = 0
    }
    const send = chunk.send.bind(chunk)
    chunk.send = () => {
      if (chunk.preprocessState === 2 && chunk.tested && !direct.urls.fresh(chunk.offset + 1)) chunk.preprocessState = 0
      send()
    }
  }

  private urlOf(params: string[]): string {
    const id = paramOf(params, PARAM.identifier)
    const n = Number(paramOf(params, PARAM.chunkNumber))
    const direct = id === undefined ? undefined : this.files.get(id)
    return direct?.urls.get(n)?.url ?? NO_URL
  }

  private headers(f: ResumableFile, chunk: DirectChunk): Record<string, string> {
    // Untested, the request is the test GET to the app; tested, it is the PUT to the bucket.
    if (!chunk.tested) return { ...REQUEST_HEADERS }
    const direct = this.files.get(f.uniqueIdentifier)
    const n = chunk.offset + 1
    if (!direct || direct.f !== f) return {}
    direct.watch(n, chunk)
    const signed = direct.urls.get(n)?.headers ?? {}
    return Object.fromEntries(Object.entries(signed).filter(([name]) => !BROWSER_SET.has(name.toLowerCase())))
  }

  private fail(f: ResumableFile, failure: DirectFailure | null, message?: string): void {
    const direct = this.files.get(f.uniqueIdentifier)
    if (!direct || direct.f !== f || direct.stoppedOnFailure) return
    direct.stoppedOnFailure = true
    f.pause(true)
    f.abort()
    const answer = failure?.answer ?? null
    this.hooks.failed(f, answer, message ?? (failure ? failureMessage(failure.body, answer) : undefined))
  }
}

