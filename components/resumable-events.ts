/**
 * The one wiring of Resumable.js's events, for the single-file and the multi-file controllers:
 * which event means what, how a finished file's reference is found when the last chunk's answer
 * lacks it, and how a file's progress is measured. The controllers only decide what each outcome
 * does to their state.
 */
import type { ServerAnswer, Chunking, ReferenceResult } from './protocol.js'
import { fetchReference, parseAnswer } from './protocol.js'
import { descriptorOf, failureMessage } from './resumable-setup.js'
import type { ResumableFile, ResumableInstance } from './resumable-types.js'
import type { SpeedMeter } from './format.js'
import { bytesHeld, bytesSent } from './transfer.js'
import type { Progress } from './upload-state.js'

export interface FileOutcomes {
  added(f: ResumableFile): void
  progressed(f: ResumableFile): void
  /** A chunk failed and Resumable.js sends it again. */
  retried(f: ResumableFile): void
  /** Every chunk is in; the reference is being asked for. */
  finishing(f: ResumableFile): void
  complete(f: ResumableFile, reference: string): void
  /** Every chunk went through, but the server never named the file. */
  unconfirmed(f: ResumableFile): void
  failed(f: ResumableFile, answer: ServerAnswer | null, message: string | undefined): void
}

export interface Wiring {
  target(): string
  chunking(): Chunking
  /** Whether outcomes of `f` still matter (the component is mounted, the file not replaced). */
  live(f: ResumableFile): boolean
  /** Direct mode: the reference comes from the report that completes the upload, not a test GET. */
  finish?(f: ResumableFile): Promise<ReferenceResult>
}

/** Routes Resumable.js's events of every file to `outcomes`. */
export function wireEvents(r: ResumableInstance, outcomes: FileOutcomes, wiring: Wiring): void {
  r.on('fileAdded', (f) => outcomes.added(f))
  r.on('fileProgress', (f) => outcomes.progressed(f))
  r.on('fileSuccess', (f, message) => succeeded(f, message, outcomes, wiring))
  r.on('fileError', (f, message) => failedWith(f, message, outcomes))
  r.on('fileRetry', (f) => outcomes.retried(f))
}

export function failedWith(f: ResumableFile, body: string, outcomes: Pick<FileOutcomes, 'failed'>): void {
  const answer = parseAnswer(body)
  outcomes.failed(f, answer, failureMessage(body, answer))
}

/**
 * The chunk that finished last here is not necessarily the one that finished the file on the
 * server (or a test GET answered "held" without a reference): then the reference is asked for.
 */
export function succeeded(f: ResumableFile, message: string, outcomes: FileOutcomes, wiring: Wiring): void {
  const reference = parseAnswer(message)?.reference
  if (reference) {
    outcomes.complete(f, reference)
    return
  }
  outcomes.finishing(f)
  const ask = wiring.finish ? wiring.finish(f) : fetchReference(wiring.target(), descriptorOf(f), wiring.chunking())
  void ask.then((result) => {
    if (!wiring.live(f) || result.resending) return
    if (result.reference) outcomes.complete(f, result.reference)
    else if (result.answer?.status === 'error' || (result.status && result.status >= 400)) failedWith(f, JSON.stringify(result.answer ?? {}), outcomes)
    else outcomes.unconfirmed(f)
  })
}

/** A file's progress now: what is sent and held, and the speed over the meter's window. */
export function measure(f: ResumableFile, meter: SpeedMeter, now: number): Progress {
  const ratio = Math.max(0, Math.min(1, f.progress()))
  const bytes = ratio * f.size
  meter.add(bytesSent(f.chunks), now)
  return {
    // 100 % only once the server has confirmed the whole file.
    percent: Math.min(99, Math.floor(ratio * 100)),
    bytes,
    held: bytesHeld(f.chunks),
    speed: meter.speed(now),
    eta: meter.eta(f.size - bytes, now),
  }
}
