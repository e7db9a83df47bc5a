/**
 * The uploads of a `multiple` property: one UploadState per file, keyed by Resumable.js's
 * uniqueIdentifier and kept in the order the files were added. Each file goes through the single
 * file's reducer (upload-state.ts), so pause, retry, failure and completion behave exactly as there.
 */
import { CLEAR_MARKER, FAILED_MARKER, FAILED_RETRYABLE_MARKER, KEEP_PREFIX, PENDING_MARKER } from '../src/shared/markers.js'
import { arrange, keptId, newId } from './file-order.js'
import { canRetry, INITIAL_STATE, isActive, uploadReducer, type UploadEvent, type UploadState } from './upload-state.js'

export interface ListEntry {
  id: string
  /** Sanitised on the server; shown here only as the browser reported it. */
  relativePath?: string
  /** The server's reference once the file is complete. */
  reference?: string
  state: UploadState
}

export type ListEvent =
  | { type: 'file'; id: string; event: UploadEvent; relativePath?: string }
  | { type: 'reference'; id: string; reference: string }
  | { type: 'remove'; id: string }

export function uploadListReducer(entries: ListEntry[], event: ListEvent): ListEntry[] {
  switch (event.type) {
  case 'file': {
    const found = entries.find((entry) => entry.id === event.id)
    if (!found) {
      // Only a file being added starts an entry; stray events of a removed file are dropped.
      if (event.event.type !== 'added') return entries
      return [...entries, { id: event.id, relativePath: event.relativePath, state: uploadReducer(INITIAL_STATE, event.event) }]
    }
    const state = uploadReducer(found.state, event.event)
    if (state === found.state) return entries
    const reference = event.event.type === 'added' || event.event.type === 'retry' ? undefined : found.reference
    return entries.map((entry) => (entry === found ? { ...entry, state, reference } : entry))
  }
  case 'reference':
    return entries.map((entry) => (entry.id === event.id ? { ...entry, reference: event.reference } : entry))
  case 'remove':
    return entries.filter((entry) => entry.id !== event.id)
  default:
    return entries
  }
}

/**
 * What the form sends (src/upload/save-plan.ts reads it): one slot per file, the kept files first
 * in their order, then the new ones (or the order the person arranged). A file still on its way
 * holds PENDING_MARKER, one stopped by an error FAILED_MARKER (FAILED_RETRYABLE_MARKER when Retry
 * can still finish it), so that Save is refused (with words that fit) instead of silently saving
 * without it. No file at all is
 * CLEAR_MARKER.
 */
export function formSlots(keptKeys: string[], entries: ListEntry[], order: readonly string[] = []): string[] | string {
  const byId = new Map<string, string>()
  for (const key of keptKeys) byId.set(keptId(key), `${KEEP_PREFIX}${key}`)
  for (const entry of entries) {
    if (entry.state.phase === 'complete' && entry.reference) byId.set(newId(entry.id), entry.reference)
    else if (isActive(entry.state.phase)) byId.set(newId(entry.id), PENDING_MARKER)
    else if (isFailed(entry)) byId.set(newId(entry.id), canRetry(entry.state.error) ? FAILED_RETRYABLE_MARKER : FAILED_MARKER)
  }
  // The person's order (file-order.ts); files never moved keep theirs: kept first, then new.
  const slots = arrange(order, [...byId.keys()]).map((id) => byId.get(id)!)
  return slots.length ? slots : CLEAR_MARKER
}

/** A row whose upload stopped with an error and is still in the list: it stops the Save. */
export function isFailed(entry: ListEntry): boolean {
  const { phase } = entry.state
  return !isActive(phase) && phase !== 'complete' && phase !== 'refused' && phase !== 'idle'
}

export function anyActive(entries: ListEntry[]): boolean {
  return entries.some((entry) => isActive(entry.state.phase))
}
