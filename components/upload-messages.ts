/** The edit component's wording: every text goes through the admin's translations (i18n.ts). */
import type { ResumableCustom } from '../src/shared/custom.js'
import type { ErrorCode } from '../src/shared/error-codes.js'
import { en } from '../src/shared/locale-en.js'
import { formatSize } from './format.js'
import type { T } from './i18n.js'
import type { FileProblem } from './rules.js'
import type { Phase, UploadError, UploadState } from './upload-state.js'

export function problemMessage(problem: FileProblem, tm: T): string {
  switch (problem.code) {
  case 'empty':
    return tm('resumable.emptyFile', 'The file is empty.')
  case 'many':
    return tm('resumable.oneFile', 'Drop one file only.')
  case 'too_large':
    return tm('resumable.tooLarge', 'The file is too large: at most {{max}} allowed.', { max: formatSize(problem.maxSize) })
  case 'extension':
    return tm('resumable.extensionNotAllowed', 'This kind of file is not allowed. Allowed extensions: {{list}}.', {
      list: problem.allowed.map((e) => `.${e}`).join(', '),
    })
  case 'type':
  default:
    return tm('resumable.typeNotAllowed', 'This type of file is not allowed. Allowed types: {{list}}.', {
      list: problem.allowed.join(', '),
    })
  }
}

/**
 * A headline for each error code the chunk route sends: the English table's, the fallback when the
 * admin's locale has none.
 */
export const ERROR_TEXT: Readonly<Record<ErrorCode, string>> = en.messages.resumable.errors

/**
 * The server's own words under the headline: they name the very file and limit, and a hook's
 * refusal is only in them. They come in the server's language.
 */
export function errorDetail(error: UploadError, tm: T): string | undefined {
  if ((error.kind !== 'server' && error.kind !== 'expired') || !error.message) return undefined
  return tm('resumable.serverSaid', 'The server said: {{message}}', { message: error.message })
}

export function errorMessage(error: UploadError, tm: T): string {
  const failed = (): string => tm('resumable.uploadFailed', 'The upload failed. Check your connection and try again.')
  switch (error.kind) {
  case 'auth':
    return tm('resumable.sessionExpired', 'Your session has expired — log in again')
  case 'validation':
    return problemMessage(error.problem, tm)
  case 'unconfirmed':
    return tm('resumable.notConfirmed', 'The server did not confirm the upload. Try again.')
  case 'expired':
    return tm('resumable.errors.expired', ERROR_TEXT.expired)
  case 'server':
  default:
    return error.code ? tm(`resumable.errors.${error.code}`, ERROR_TEXT[error.code]) : failed()
  }
}

/** A row that stops the Save: its name, and whether Retry can still finish it. */
export interface FailedRow {
  name: string
  retryable: boolean
}

/** A Save refusal as the server puts it on the record: English words, and the key of the same words. */
export interface Refusal {
  message: string
  /** `resumable.…` when the words are the feature's own (src/shared/locale-en.ts); a hook's words have none. */
  type?: string
}

/** The server's refusal in the admin's language where it is one of the feature's own texts. */
export function refusalText(refusal: Refusal, tm: T): string {
  return refusal.type?.startsWith('resumable.') ? tm(refusal.type, refusal.message) : refusal.message
}

/**
 * What a refused Save says on a `multiple` field: when rows failed, the server's "not finished" is
 * misleading (waiting never helps), so the failed files are named with what to do instead; Retry
 * only when it can finish every one of them. Without failed rows (a reloaded page) the server's
 * words stay.
 */
export function saveRefusal(refusal: Refusal, failed: FailedRow[], tm: T): string {
  if (failed.length === 0) return refusalText(refusal, tm)
  const names = failed.map((row) => row.name).join(', ')
  return failed.every((row) => row.retryable)
    ? tm('resumable.failedBlocksSaveRetry', 'Not saved: {{names}} could not be uploaded. Retry it or remove it from the list, then save again.', { names })
    : tm('resumable.failedBlocksSave', 'Not saved: {{names}} could not be uploaded. Remove it from the list, then save again.', { names })
}

/** How much of the bar the server holds, in percent of the file. */
export function heldPercent(state: UploadState, size: number): number {
  if (state.phase === 'complete') return 100
  return size > 0 ? ((state.progress.held ?? 0) / size) * 100 : 0
}

/**
 * What a reload would keep, said plainly: the server keeps whole chunks only, so a bar at 34 % with
 * no chunk finished means nothing is kept yet.
 */
export function heldText(state: UploadState, chunkSize: number, tm: T): string {
  const held = state.progress.held ?? 0
  if (held <= 0) return tm('resumable.heldNothing', 'Nothing is kept on the server until the first part ({{chunk}}) is complete.', { chunk: formatSize(chunkSize) })
  return tm('resumable.held', 'Kept on the server: {{held}} — a reload continues from there.', { held: formatSize(held) })
}

/** The limits shown in the drop zone, e.g. "up to 1.00 GiB · video/*, .pdf". */
export function constraintsText(custom: ResumableCustom, tm: T): string {
  const parts: string[] = []
  if (custom.maxSize > 0) parts.push(tm('resumable.maxSize', 'up to {{max}}', { max: formatSize(custom.maxSize) }))
  const types = [...custom.mimeTypes, ...custom.extensions.map((e) => `.${e}`)]
  if (types.length) parts.push(types.join(', '))
  return parts.join(' · ')
}

export function statusText(phase: Phase, tm: T): string {
  switch (phase) {
  case 'idle':
    return ''
  case 'uploading':
    return tm('resumable.uploading', 'Uploading…')
  case 'finishing':
    return tm('resumable.finishing', 'Finishing…')
  case 'paused':
    return tm('resumable.paused', 'Paused')
  case 'complete':
    return tm('resumable.uploaded', 'Uploaded — press Save to attach')
  default:
    return tm('resumable.failed', 'Upload failed')
  }
}

/** AdminJS's login page, from the paths it puts on the page. */
export function loginUrl(): string {
  const paths = (typeof window !== 'undefined'
    ? (window as unknown as { REDUX_STATE?: { paths?: { rootPath?: string; loginPath?: string } } }).REDUX_STATE?.paths
    : undefined) ?? {}
  if (paths.loginPath) return paths.loginPath
  const root = (paths.rootPath ?? '/admin').replace(/\/+$/, '')
  return `${root}/login`
}
