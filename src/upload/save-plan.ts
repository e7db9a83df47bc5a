import type { CurrentAdmin } from 'adminjs'
import { UploadRefused } from '../errors.js'
import { belongsTo, isUploadId, type UploadScope } from '../protocol/scope.js'
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
    if (required && !current.length) throw SaveRefusal.of('fileRequired')
    return null
  }
  if (sent === CLEAR_MARKER || sent === '' || sent === null) {
    if (required) throw SaveRefusal.of(multiple ? 'atLeastOne' : 'fileRequiredHere')
    return current.length || multiple ? { slots: [] } : null
  }
  if (!multiple) {
    if (sent === PENDING_MARKER) throw SaveRefusal.of('unfinished')
    failedRows([sent])
    return { slots: [await uploadSlot(saver, sent)] }
  }
  if (!Array.isArray(sent)) throw SaveRefusal.of('notAList')
  failedRows(sent as unknown[])
  const slots: Slot[] = []
  const seen = new Set<string>()
  for (const value of sent as unknown[]) {
    // Holes (`images.5` alone), nested keys (`images.0.x`) and numbers are no slot.
    if (typeof value !== 'string') throw SaveRefusal.of('notAList')
    if (value === PENDING_MARKER) throw SaveRefusal.of('unfinished')
    if (seen.has(value)) throw SaveRefusal.of('listedTwice')
    seen.add(value)
    if (value.startsWith(KEEP_PREFIX)) {
      const key = value.slice(KEEP_PREFIX.length)
      if (!current.some((entry) => entry.key === key)) throw SaveRefusal.of('changed')
      slots.push({ keep: key })
    } else {
      // Anything else must be a reference to a complete upload: a storage key sent as is names none.
      slots.push(await uploadSlot(saver, value))
    }
  }
  if (!slots.length && required) throw SaveRefusal.of('atLeastOne')
  return { slots }
}

/** A reference to a complete upload of this admin and property, through the completion gate. */
async function uploadSlot(saver: Saver, value: unknown): Promise<Slot> {
  const { feature } = saver
  if (!isUploadId(value)) throw SaveRefusal.of('unknown')
  await feature.ready
  const upload = await feature.storage.staging.get(value)
  // Someone else's upload is reported exactly like a missing one: its existence is not revealed.
  if (!upload || !belongsTo(upload, saver.scope)) throw SaveRefusal.of('unknown')
  if ((await feature.storage.staging.state(value)) !== 'complete') throw SaveRefusal.of('unfinished')
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
  if (sent.includes(FAILED_MARKER)) throw SaveRefusal.of('failedRow')
  if (sent.includes(FAILED_RETRYABLE_MARKER)) throw SaveRefusal.of('failedRowRetry')
}
