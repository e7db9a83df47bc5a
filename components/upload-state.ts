/**
 * The edit component's upload as a state machine. Pure: the hook (use-resumable-upload.ts) turns
 * Resumable.js events and button presses into these events, and the view renders the state.
 *
 *   idle ─file added→ uploading ⇄ paused
 *   uploading ─all chunks in, no reference yet→ finishing ─reference→ complete
 *   uploading ─reference→ complete
 *   uploading | finishing ─error→ failed | expired | auth-required ─retry→ uploading
 *   idle ─file refused→ refused
 *   any ─cancel / new file→ idle
 */
import { ERROR_CODE, type ErrorCode } from '../src/shared/error-codes.js'
import type { FileProblem } from './rules.js'

export type Phase =
  | 'idle'
  | 'uploading'
  | 'paused'
  /** Every chunk is in; asking the server for the finished file's reference. */
  | 'finishing'
  | 'complete'
  /** The server refused the upload, or the connection gave up (`error.retryable` says if Retry helps). */
  | 'failed'
  /** The server swept the upload and the automatic restarts are used up: Retry starts it over. */
  | 'expired'
  /** The session ended: log in again (another tab), then Retry resumes where it stopped. */
  | 'auth-required'
  /** The chosen file breaks a limit; nothing was sent. */
  | 'refused'

export interface Progress {
  percent: number
  bytes: number
  /** bytes per second */
  speed: number
  /** seconds left, unknown when undefined */
  eta?: number
  /** Bytes in chunks the server confirmed (what a reload keeps); the rest of `bytes` is in flight. */
  held?: number
}

export type UploadError =
  | { kind: 'auth' }
  | { kind: 'validation'; problem: FileProblem }
  | { kind: 'server'; code?: ErrorCode; message?: string; retryable: boolean }
  | { kind: 'expired'; message?: string }
  /** The file went through but the server never named it. */
  | { kind: 'unconfirmed' }

/**
 * Whether Retry can still finish an upload that stopped with `error`: after a lost connection, a
 * lost session (once logged in again) or an expiry, or a server error not final for this file.
 */
export function canRetry(error: UploadError | null | undefined): boolean {
  return error?.kind === 'unconfirmed' || error?.kind === 'expired' || error?.kind === 'auth'
    || (error?.kind === 'server' && error.retryable)
}

export interface UploadState {
  phase: Phase
  file: { name: string; size: number } | null
  progress: Progress
  /** Chunk retries since the last chunk that succeeded. */
  retries: number
  /** The server swept the upload and it is being started again. */
  restarting: boolean
  error: UploadError | null
  /** The record's current file is to be removed on Save. */
  cleared: boolean
}

export type UploadEvent =
  | { type: 'added'; name: string; size: number }
  | { type: 'progress'; progress: Progress; chunkSucceeded: boolean }
  | { type: 'chunkRetry' }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'finishing' }
  | { type: 'complete' }
  | { type: 'unconfirmed' }
  | { type: 'failed'; code?: ErrorCode; message?: string }
  | { type: 'restarting' }
  | { type: 'refused'; problem: FileProblem }
  | { type: 'retry' }
  | { type: 'reset' }
  | { type: 'clear' }
  | { type: 'undoClear' }

export const NO_PROGRESS: Progress = { percent: 0, bytes: 0, speed: 0 }

export const INITIAL_STATE: UploadState = {
  phase: 'idle', file: null, progress: NO_PROGRESS, retries: 0, restarting: false, error: null, cleared: false,
}

/** A file is on its way: the form must not be saved yet, and a refusal does not stop it. */
export function isActive(phase: Phase): boolean {
  return phase === 'uploading' || phase === 'paused' || phase === 'finishing'
}

/** Codes for which trying the same upload again cannot help. */
const FINAL_CODES: ReadonlySet<ErrorCode> = new Set([
  ERROR_CODE.invalidRequest, ERROR_CODE.forbidden, ERROR_CODE.notFound, ERROR_CODE.methodNotAllowed,
  ERROR_CODE.conflict, ERROR_CODE.tooLarge, ERROR_CODE.typeNotAllowed, ERROR_CODE.uploadRefused,
])

/** The phase and error a failed upload ends in, from the server's error code. */
export function failure(code: ErrorCode | undefined, message?: string): Pick<UploadState, 'phase' | 'error'> {
  if (code === ERROR_CODE.notAuthenticated) return { phase: 'auth-required', error: { kind: 'auth' } }
  if (code === ERROR_CODE.expired) return { phase: 'expired', error: { kind: 'expired', message } }
  return { phase: 'failed', error: { kind: 'server', code, message, retryable: !code || !FINAL_CODES.has(code) } }
}

export function uploadReducer(state: UploadState, event: UploadEvent): UploadState {
  switch (event.type) {
  case 'added':
    // `restarting` survives: an expired upload comes back through here and its notice stays.
    return {
      ...INITIAL_STATE, cleared: state.cleared, restarting: state.restarting, phase: 'uploading',
      file: { name: event.name, size: event.size },
    }
  case 'progress':
    if (!isActive(state.phase)) return state
    return { ...state, progress: event.progress, retries: event.chunkSucceeded ? 0 : state.retries }
  case 'chunkRetry':
    return isActive(state.phase) ? { ...state, retries: state.retries + 1 } : state
  case 'pause':
    if (state.phase !== 'uploading') return state
    return { ...state, phase: 'paused', progress: { ...state.progress, speed: 0, eta: undefined } }
  case 'resume':
    return state.phase === 'paused' ? { ...state, phase: 'uploading' } : state
  case 'finishing':
    return state.phase === 'uploading' ? { ...state, phase: 'finishing' } : state
  case 'complete':
    return {
      ...state,
      phase: 'complete',
      progress: { percent: 100, bytes: state.file?.size ?? state.progress.bytes, speed: 0, eta: 0 },
      retries: 0,
      restarting: false,
      error: null,
    }
  case 'unconfirmed':
    return { ...state, phase: 'failed', restarting: false, error: { kind: 'unconfirmed' } }
  case 'failed':
    if (!isActive(state.phase)) return state
    return { ...state, ...failure(event.code, event.message), restarting: false }
  case 'restarting':
    return { ...state, restarting: true }
  case 'refused': {
    const error: UploadError = { kind: 'validation', problem: event.problem }
    // A running upload goes on: the refused file simply was not taken.
    return isActive(state.phase) ? { ...state, error } : { ...state, phase: 'refused', error }
  }
  case 'retry':
    if (state.phase !== 'failed' && state.phase !== 'expired' && state.phase !== 'auth-required') return state
    return { ...state, phase: 'uploading', retries: 0, restarting: false, error: null }
  case 'reset':
    return { ...INITIAL_STATE, cleared: state.cleared }
  case 'clear':
    return { ...(state.phase === 'complete' ? INITIAL_STATE : state), cleared: true }
  case 'undoClear':
    return { ...state, cleared: false }
  default:
    return state
  }
}
