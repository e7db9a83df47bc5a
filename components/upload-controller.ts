/**
 * Drives one Resumable.js instance for the edit component: turns its events into UploadEvents for
 * the reducer (upload-state.ts) and keeps what must not live in React state (the file being sent,
 * the value put into the form, its progress: file-progress.ts). It knows nothing of React; the hook
 * (use-resumable-upload.ts) creates one per mounted component.
 */
import type { ResumableCustom } from '../src/shared/custom.js'
import { ERROR_CODE } from '../src/shared/error-codes.js'
import { CLEAR_MARKER, PENDING_MARKER } from '../src/shared/markers.js'
import { deleteUpload, type Chunking, type ServerAnswer } from './protocol.js'
import { succeeded, wireEvents, type FileOutcomes, type Wiring } from './resumable-events.js'
import { RealResumable, descriptorOf, fileIdentifier, resumableOptions } from './resumable-setup.js'
import type { ResumableConstructor, ResumableFile, ResumableInstance } from './resumable-types.js'
import { directMode, type DirectUploads } from './direct-upload.js'
import { FileProgress } from './file-progress.js'
import { checkFile } from './rules.js'
import type { UploadEvent, UploadState } from './upload-state.js'

/** How often an upload the server swept is started again on its own before the user is asked. */
export const MAX_EXPIRED_RESTARTS = 2

export interface UploadOptions {
  custom: ResumableCustom
  /** Resumable.js target: the chunk route of this resource and property. */
  target: string
  /** Puts a value (a reference, or a marker) into the form; undefined takes ours out. */
  onValue(value: string | undefined): void
}

export class UploadController {
  private resumable: ResumableInstance | null = null
  private current: ResumableFile | null = null
  /** What this component put into the form (a reference or PENDING_MARKER), if anything. */
  private value: string | null = null
  private readonly progress = new FileProgress(
    () => (this.stopped ? null : this.current),
    (progress, chunkSucceeded) => this.dispatch({ type: 'progress', progress, chunkSucceeded }),
  )
  private readonly restarts = new Map<string, number>()
  private stopped = false
  private direct: DirectUploads | null = null
  private outcomes: FileOutcomes | null = null
  private wiring: Wiring | null = null

  constructor(
    private readonly dispatch: (event: UploadEvent) => void,
    private readonly options: () => UploadOptions,
    private readonly state: () => UploadState,
    private readonly Resumable: ResumableConstructor = RealResumable,
  ) {}

  /** Creates the Resumable.js instance; false when this browser cannot upload in chunks. */
  start(): boolean {
    const { custom, target } = this.options()
    const outcomes: FileOutcomes = {
      added: (f) => this.added(f),
      progressed: (f) => this.progressed(f),
      retried: (f) => {
        if (f !== this.current) return
        this.progress.beforeRetry()
        this.dispatch({ type: 'chunkRetry' })
      },
      finishing: (f) => {
        if (f !== this.current) return
        this.progress.drawNow()
        this.dispatch({ type: 'finishing' })
      },
      complete: (f, reference) => {
        if (f !== this.current) return
        this.progress.drawNow()
        this.complete(reference)
      },
      unconfirmed: (f) => { if (f === this.current) this.dispatch({ type: 'unconfirmed' }) },
      failed: (f, answer, message) => this.failed(f, answer, message),
    }
    const chunking = (): Chunking => this.chunking(this.options().custom)
    const direct = directMode(custom, () => this.options().target, chunking, outcomes)
    this.direct = direct
    const r = new this.Resumable(resumableOptions(custom, target, direct))
    // `new Resumable()` gives an object without `support` when the browser lacks File/Blob APIs.
    if (!r || !r.support) return false
    this.outcomes = outcomes
    this.wiring = {
      target: () => this.options().target,
      chunking,
      live: (f) => !this.stopped && f === this.current,
      finish: direct ? (f) => direct.finish(f) : undefined,
    }
    wireEvents(r, this.outcomes, this.wiring)
    this.resumable = r
    return true
  }

  /**
   * Resumable.js has no destroy(): stops the transfers when the form goes away. Nothing is
   * deleted, so picking the same file again later resumes it.
   */
  stop(): void {
    this.stopped = true
    this.progress.stopDrawing()
    this.resumable?.files.forEach((f) => {
      f.pause(true)
      f.abort()
    })
    this.direct?.close()
  }

  /** A file picked or dropped: checked, then uploaded in place of any other. */
  choose(files: ArrayLike<File>): void {
    const r = this.resumable
    if (!r || files.length === 0) return
    if (files.length > 1) {
      this.dispatch({ type: 'refused', problem: { code: 'many' } })
      return
    }
    const file = files[0]
    const problem = checkFile(file, this.options().custom)
    if (problem) {
      this.dispatch({ type: 'refused', problem })
      return
    }
    const previous = this.current
    // Another file's upload is cancelled on the server; the same file's is kept to be resumed.
    if (previous) this.discardCurrent(previous.uniqueIdentifier !== fileIdentifier(file))
    // Any other file Resumable.js still knows about (e.g. one that failed) goes too.
    r.files.slice().forEach((f) => f.cancel())
    this.forgetValue()
    this.progress.restartSpeed()
    this.dispatch({ type: 'reset' })
    r.addFile(file)
    // Until the reference arrives, a Save must fail on the server instead of silently saving the
    // record without its file.
    this.setValue(PENDING_MARKER)
  }

  pause(): void {
    const f = this.current
    if (!f) return
    // What was sent up to the press, in flight included, is what the paused bar shows.
    this.progress.drawNow()
    f.pause(true)
    f.abort()
    this.progress.restartSpeed()
    this.progress.stopDrawing()
    this.dispatch({ type: 'pause' })
  }

  resume(): void {
    const f = this.current
    const r = this.resumable
    if (!f || !r) return
    f.pause(false)
    this.progress.resumed()
    this.dispatch({ type: 'resume' })
    const inFlight = f.chunks.filter((c) => c.status() === 'uploading').length
    for (let i = inFlight; i < this.options().custom.simultaneousUploads; i += 1) {
      if (!r.uploadNextChunk()) break
    }
  }

  cancel(): void {
    const f = this.current
    this.discardCurrent(true)
    if (!f) this.resumable?.files.slice().forEach((other) => other.cancel())
    this.forgetValue()
    this.progress.restartSpeed()
    this.dispatch({ type: 'reset' })
  }

  retry(): void {
    const f = this.current
    if (!f || !this.resumable) {
      this.dispatch({ type: 'reset' })
      return
    }
    if (this.state().phase === 'expired') {
      // The server no longer has it: start over rather than resend into a removed upload.
      this.restarts.delete(f.uniqueIdentifier)
      this.dispatch({ type: 'retry' })
      this.restart(f)
      return
    }
    this.progress.restartSpeed()
    f.pause(false)
    this.dispatch({ type: 'retry' })
    // Every chunk is in when only the reference was missing.
    if (f.isComplete() && f.chunks.length > 0) this.askReference(f)
    else f.retry()
  }

  /**
   * Puts a complete upload the server already holds into the form by its reference: nothing is
   * sent, the person need not find the file again. Any upload of this form is given up first.
   */
  attach(upload: { reference: string; filename: string; size: number }): void {
    this.discardCurrent(true)
    this.resumable?.files.slice().forEach((f) => f.cancel())
    this.progress.restartSpeed()
    this.dispatch({ type: 'reset' })
    this.dispatch({ type: 'added', name: upload.filename, size: upload.size })
    this.dispatch({ type: 'complete' })
    this.setValue(upload.reference)
  }

  /** Marks the record's current file for removal on Save. */
  clear(): void {
    if (this.state().phase === 'complete') {
      this.discardCurrent(true)
      this.progress.restartSpeed()
    }
    this.value = null
    this.dispatch({ type: 'clear' })
    this.options().onValue(CLEAR_MARKER)
  }

  undoClear(): void {
    this.dispatch({ type: 'undoClear' })
    this.options().onValue(undefined)
  }

  /** Keeps speed and time left moving (and decaying) between progress events. */
  tick(): void {
    if (this.current && this.state().phase === 'uploading') this.progress.tick()
  }

  private added(f: ResumableFile): void {
    this.current = f
    this.progress.startFile()
    this.dispatch({ type: 'added', name: f.fileName, size: f.size })
    this.resumable?.upload()
  }

  private progressed(f: ResumableFile): void {
    if (f === this.current) this.progress.progressed()
  }

  private failed(f: ResumableFile, answer: ServerAnswer | null, message: string | undefined): void {
    if (f !== this.current) return
    this.progress.stopDrawing()
    if (answer?.code === ERROR_CODE.expired) {
      const count = this.restarts.get(f.uniqueIdentifier) ?? 0
      if (count < MAX_EXPIRED_RESTARTS) {
        this.restarts.set(f.uniqueIdentifier, count + 1)
        this.dispatch({ type: 'restarting' })
        this.restart(f)
        return
      }
    }
    this.dispatch({ type: 'failed', code: answer?.code, message })
  }

  /** Clears the server's mark of a swept upload, then sends the same file again from chunk 1. */
  private restart(f: ResumableFile): void {
    const r = this.resumable
    const { target, custom } = this.options()
    void deleteUpload(target, descriptorOf(f), this.chunking(custom)).then(() => {
      if (this.stopped || f !== this.current || !r) return
      this.current = null
      r.removeFile(f)
      r.addFile(f.file)
    })
  }

  /** Every chunk is in but the reference never came: ask the server for it. */
  private askReference(f: ResumableFile): void {
    if (this.outcomes && this.wiring) succeeded(f, '', this.outcomes, this.wiring)
  }

  private complete(reference: string): void {
    this.dispatch({ type: 'complete' })
    this.setValue(reference)
  }

  private discardCurrent(sendDelete: boolean): void {
    const f = this.current
    this.current = null
    this.progress.stopDrawing()
    if (!f) return
    f.cancel()
    if (sendDelete) void deleteUpload(this.options().target, descriptorOf(f), this.chunking(this.options().custom))
  }

  private setValue(value: string): void {
    this.value = value
    this.options().onValue(value)
  }

  /** Takes out of the form the value this component put there, if any. */
  private forgetValue(): void {
    if (this.value === null) return
    this.value = null
    this.options().onValue(this.state().cleared ? CLEAR_MARKER : undefined)
  }

  private chunking(custom: ResumableCustom): Chunking {
    return { chunkSize: custom.chunkSize, forceChunkSize: custom.forceChunkSize }
  }
}
