/**
 * Drives one Resumable.js instance carrying several files for a `multiple` property: Resumable.js
 * keeps at most `simultaneousUploads` chunks in flight across all of them, and every event is
 * routed to its file's entry (upload-list-state.ts). Knows nothing of React.
 */
import type { ResumableCustom } from '../src/shared/custom.js'
import { ERROR_CODE } from '../src/shared/error-codes.js'
import { SpeedMeter } from './format.js'
import { deleteUpload, type Chunking, type ServerAnswer } from './protocol.js'
import { measure, succeeded, wireEvents, type FileOutcomes, type Wiring } from './resumable-events.js'
import { RealResumable, descriptorOf, fileIdentifier, resumableOptions } from './resumable-setup.js'
import type { ResumableConstructor, ResumableFile, ResumableInstance } from './resumable-types.js'
import { directMode, type DirectUploads } from './direct-upload.js'
import { ProgressThrottle } from './progress-throttle.js'
import { checkFile, type FileProblem } from './rules.js'
import type { ListEvent } from './upload-list-state.js'

export interface MultiUploadOptions {
  custom: ResumableCustom
  target: string
}

/** A File as Resumable.js reads it: `relativePath` set by a folder drop (folder-drop.ts). */
export type PickedFile = File & { relativePath?: string }

/**
 * Two files of a dropped folder may share name, size and date (`a/cover.jpg`, `b/cover.jpg`): the
 * folder path goes into the identifier, hashed to keep it short.
 */
function identifierInFolder(file: File): string {
  const path = (file as PickedFile).relativePath || (file as File & { webkitRelativePath?: string }).webkitRelativePath || ''
  if (!path) return fileIdentifier(file)
  let hash = 0x811c9dc5
  for (let i = 0; i < path.length; i += 1) hash = Math.imul(hash ^ path.charCodeAt(i), 0x01000193) >>> 0
  return `${fileIdentifier(file)}-${hash.toString(16)}`
}

/**
 * Resumable.js sends every chunk of the first file before any of the next one's. Taking the files
 * in turn instead moves them all at once, still within `simultaneousUploads` chunks in flight.
 */
function takeFilesInTurn(r: ResumableInstance): void {
  const inOrder = r.uploadNextChunk.bind(r)
  let turn = 0
  r.uploadNextChunk = () => {
    const { files } = r
    for (let i = 0; i < files.length; i += 1) {
      const f = files[(turn + i) % files.length]
      if (f.isPaused()) continue
      const chunk = f.chunks.find((c) => c.status() === 'pending' && (c as { preprocessState?: number }).preprocessState === 0)
      if (chunk) {
        turn = (turn + i + 1) % files.length
        chunk.send()
        return true
      }
    }
    // Nothing left to send: Resumable.js's own walk finds nothing either and reports completion.
    return inOrder()
  }
}

export class MultiUploadController {
  private resumable: ResumableInstance | null = null
  private readonly meters = new Map<string, SpeedMeter>()
  /** Files whose progress changed since it was last drawn: drawn together, in one render. */
  private readonly moved = new Set<string>()
  private readonly throttle = new ProgressThrottle(() => this.drawProgress())
  private readonly expiredRestarts = new Set<string>()
  private stopped = false
  private direct: DirectUploads | null = null
  private outcomes: FileOutcomes | null = null
  private wiring: Wiring | null = null

  constructor(
    private readonly dispatch: (event: ListEvent) => void,
    private readonly refused: (problem: FileProblem, name: string) => void,
    private readonly options: () => MultiUploadOptions,
    private readonly Resumable: ResumableConstructor = RealResumable,
  ) {}

  start(): boolean {
    const { custom, target } = this.options()
    let r: ResumableInstance | null = null
    const outcomes: FileOutcomes = {
      added: (f) => {
        this.meters.set(f.uniqueIdentifier, new SpeedMeter(5000))
        const relativePath = f.relativePath && f.relativePath !== f.fileName ? f.relativePath : undefined
        this.send(f, { type: 'added', name: f.fileName, size: f.size }, relativePath)
        r?.upload()
      },
      progressed: (f) => this.progressed(f),
      retried: (f) => this.send(f, { type: 'chunkRetry' }),
      finishing: (f) => {
        this.drawFile(f)
        this.send(f, { type: 'finishing' })
      },
      complete: (f, reference) => this.complete(f, reference),
      unconfirmed: (f) => this.send(f, { type: 'unconfirmed' }),
      failed: (f, answer, message) => this.failed(f, answer, message),
    }
    const direct = directMode(custom, () => this.options().target, () => this.chunking(), outcomes)
    this.direct = direct
    r = new this.Resumable({ ...resumableOptions(custom, target, direct), maxFiles: undefined, generateUniqueIdentifier: identifierInFolder })
    if (!r || !r.support) return false
    takeFilesInTurn(r)
    this.outcomes = outcomes
    this.wiring = {
      target: () => this.options().target,
      chunking: () => this.chunking(),
      live: (f) => !this.stopped && !!this.find(f.uniqueIdentifier),
      finish: direct ? (f) => direct.finish(f) : undefined,
    }
    wireEvents(r, this.outcomes, this.wiring)
    this.resumable = r
    return true
  }

  stop(): void {
    this.stopped = true
    this.throttle.cancel()
    this.resumable?.files.forEach((f) => {
      f.pause(true)
      f.abort()
    })
    this.direct?.close()
  }

  /** Picked or dropped files: each checked on its own; the ones that pass upload side by side. */
  choose(files: ArrayLike<PickedFile>): void {
    const r = this.resumable
    if (!r) return
    for (const file of Array.from(files)) {
      const problem = checkFile(file, this.options().custom)
      if (problem) this.refused(problem, file.name)
      // The same file twice is one upload (one identifier): Resumable.js ignores the second.
      else r.addFile(file)
    }
  }

  pause(id: string): void {
    const f = this.find(id)
    if (!f) return
    // What was sent up to the press, in flight included, is what the paused bar shows.
    if (this.moved.has(id)) this.drawFile(f)
    f.pause(true)
    f.abort()
    this.meterOf(id).reset()
    this.send(f, { type: 'pause' })
  }

  resume(id: string): void {
    const f = this.find(id)
    if (!f) return
    f.pause(false)
    this.meterOf(id).reset()
    this.send(f, { type: 'resume' })
    this.resumable?.upload()
  }

  retry(id: string): void {
    const f = this.find(id)
    if (!f) return
    f.pause(false)
    this.send(f, { type: 'retry' })
    if (f.isComplete() && f.chunks.length > 0 && this.outcomes && this.wiring) succeeded(f, '', this.outcomes, this.wiring)
    else f.retry()
  }

  /** Stops the file and removes its upload on the server; its entry goes from the list. */
  remove(id: string): void {
    const f = this.find(id)
    this.moved.delete(id)
    this.dispatch({ type: 'remove', id })
    if (!f) return
    f.cancel()
    void deleteUpload(this.options().target, descriptorOf(f), this.chunking())
  }

  /** The picked file of an upload, for its row's thumbnail. */
  fileOf(id: string): File | null {
    return this.find(id)?.file ?? null
  }

  /** Keeps speed and time left moving between progress events. */
  tick(): void {
    this.resumable?.files.forEach((f) => { if (f.isUploading()) this.progressed(f) })
  }

  private find(id: string): ResumableFile | null {
    return this.resumable?.getFromUniqueIdentifier(id) || null
  }

  private send(f: ResumableFile, event: Extract<ListEvent, { type: 'file' }>['event'], relativePath?: string): void {
    if (!this.stopped) this.dispatch({ type: 'file', id: f.uniqueIdentifier, event, relativePath })
  }

  private meterOf(id: string): SpeedMeter {
    let m = this.meters.get(id)
    if (!m) this.meters.set(id, m = new SpeedMeter(5000))
    return m
  }

  private progressed(f: ResumableFile): void {
    this.moved.add(f.uniqueIdentifier)
    this.throttle.request()
  }

  private drawProgress(): void {
    const ids = [...this.moved]
    this.moved.clear()
    for (const id of ids) {
      const f = this.find(id)
      if (f) this.drawFile(f)
    }
  }

  private drawFile(f: ResumableFile): void {
    this.moved.delete(f.uniqueIdentifier)
    this.send(f, { type: 'progress', progress: measure(f, this.meterOf(f.uniqueIdentifier), Date.now()), chunkSucceeded: true })
  }

  private complete(f: ResumableFile, reference: string): void {
    this.send(f, { type: 'complete' })
    if (!this.stopped) this.dispatch({ type: 'reference', id: f.uniqueIdentifier, reference })
  }

  private failed(f: ResumableFile, answer: ServerAnswer | null, message: string | undefined): void {
    if (answer?.code === ERROR_CODE.expired && !this.expiredRestarts.has(f.uniqueIdentifier)) {
      // The server swept it: clear the mark and send the same file once more from chunk 1.
      this.expiredRestarts.add(f.uniqueIdentifier)
      this.send(f, { type: 'restarting' })
      const r = this.resumable
      void deleteUpload(this.options().target, descriptorOf(f), this.chunking()).then(() => {
        if (this.stopped || !r) return
        r.removeFile(f)
        r.addFile(f.file)
      })
      return
    }
    this.send(f, { type: 'failed', code: answer?.code, message })
  }

  private chunking(): Chunking {
    const { custom } = this.options()
    return { chunkSize: custom.chunkSize, forceChunkSize: custom.forceChunkSize }
  }
}
