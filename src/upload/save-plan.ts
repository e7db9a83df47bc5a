import type { CurrentAdmin } from 'adminjs'
import { UploadRefused } from '../errors.js'
import { belongsTo, isUploadId, type UploadScope } from '../protocol/scope.js'
import { en } from '../shared/locale-en.js'
import { CLEAR_MARKER, FAILED_MARKER, FAILED_RETRYABLE_MARKER, KEEP_PREFIX, PENDING_MARKER } from '../shared/markers.js'
import type { UploadCompletion, UploadManifest } from '../store/types.js'
import { settleCompletion } from './completion.js'
import type { StoredEntry } from './entries.js'
import type { RegisteredFeature } from './registry.js'
import { SaveRefusal } from './save-refusal.js'

/**
 * Save, before the record is written: what the form sent for the property, read into the record's
 * list of files after the Save. A single file is a list of at most one, so both kinds of property
 * go through the same checks: every reference must name a complete upload of this admin, resource
 * and property that passed the completion gate (checksum, `onUploadComplete`), and one bad slot
 * refuses the whole Save before anything is placed.
 */

/** A file of the list after the Save: one the record keeps, or an upload to place. */
export type Slot = { keep: string } | { upload: UploadManifest; completion: UploadCompletion }

/** The record's whole list of files after the Save. */
export interface SaveChange {
  slots: Slot[]
}

export const UNFINISHED = 'The upload has not finished yet: wait until it completes, then save again.'
export const UNKNOWN = 'This upload is unknown or has expired: upload the file again.'
export const CHANGED = 'The files of this record changed since the form was opened: reload the page and save again.'
/** The words the components show in the admin's language (src/shared/locale-en.ts, `resumable.saveFailedRow…`). */
export const FAILED_ROW = en.messages.resumable.saveFailedRow
export const FAILED_ROW_RETRYABLE = en.messages.resumable.saveFailedRowRetry
const NOT_A_LIST = 'The files must be sent as a list of upload references (file.0, file.1, …).'

/** Who saves which record's property. */
export interface Saver {
  feature: RegisteredFeature
  currentAdmin: CurrentAdmin
  scope: UploadScope
}

/**
 * `sent` is the property's value in the form (a list with `multiple`); `current` the files the
 * record holds. Null: the Save leaves the files as they are. Throws SaveRefusal.
 */
export async function planSave(saver: Saver, sent: unknown, current: StoredEntry[]): Promise<SaveChange | null> {
  const { feature } = saver
  const { required, multiple } = feature.policy
  if (sent === undefined) {
    if (required && !current.length) throw new SaveRefusal('A file is required: upload one before saving.')
    return null
  }
  if (sent === CLEAR_MARKER || sent === '' || sent === null) {
    if (required) throw new SaveRefusal(multiple ? 'At least one file is required here.' : 'A file is required here; it cannot be removed, only replaced.')
    return current.length || multiple ? { slots: [] } : null
  }
  if (!multiple) {
    if (sent === PENDING_MARKER) throw new SaveRefusal(UNFINISHED)
    failedRows([sent])
    return { slots: [await uploadSlot(saver, sent)] }
  }
  if (!Array.isArray(sent)) throw new SaveRefusal(NOT_A_LIST)
  failedRows(sent as unknown[])
  const slots: Slot[] = []
  const seen = new Set<string>()
  for (const value of sent as unknown[]) {
    // Holes (`images.5` alone), nested keys (`images.0.x`) and numbers are no slot.
    if (typeof value !== 'string') throw new SaveRefusal(NOT_A_LIST)
    if (value === PENDING_MARKER) throw new SaveRefusal(UNFINISHED)
    if (seen.has(value)) throw new SaveRefusal('The same file is listed twice.')
    seen.add(value)
    if (value.startsWith(KEEP_PREFIX)) {
      const key = value.slice(KEEP_PREFIX.length)
      if (!current.some((entry) => entry.key === key)) throw new SaveRefusal(CHANGED)
      slots.push({ keep: key })
    } else {
      // Anything else must be a reference to a complete upload: a storage key sent as is names none.
      slots.push(await uploadSlot(saver, value))
    }
  }
  if (!slots.length && required) throw new SaveRefusal('At least one file is required here.')
  return { slots }
}

/** A reference to a complete upload of this admin and property, through the completion gate. */
async function uploadSlot(saver: Saver, value: unknown): Promise<Slot> {
  const { feature } = saver
  if (!isUploadId(value)) throw new SaveRefusal(UNKNOWN)
  await feature.ready
  const upload = await feature.storage.staging.get(value)
  // Someone else's upload is reported exactly like a missing one: its existence is not revealed.
  if (!upload || !belongsTo(upload, saver.scope)) throw new SaveRefusal(UNKNOWN)
  if ((await feature.storage.staging.state(value)) !== 'complete') throw new SaveRefusal(UNFINISHED)
  try {
    // A hook still scanning this upload is waited for: its verdict decides this Save too.
    return { upload, completion: await settleCompletion(feature, saver.currentAdmin, upload) }
  } catch (error) {
    if (error instanceof UploadRefused) throw new SaveRefusal(error.message)
    throw error
  }
}

/**
 * A failed row refuses the Save before anything else is said of the list (waiting for a pending
 * one never helps then). Retry is offered only when it can finish every failed row.
 */
function failedRows(sent: unknown[]): void {
  if (sent.includes(FAILED_MARKER)) throw new SaveRefusal(FAILED_ROW)
  if (sent.includes(FAILED_RETRYABLE_MARKER)) throw new SaveRefusal(FAILED_ROW_RETRYABLE)
}
