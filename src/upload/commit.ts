import { checkedType } from './checked-type.js'
import { entryColumns, sameKeys, storedEntries, type RecordView, type StoredEntry } from './entries.js'
import type { RegisteredFeature } from './registry.js'
import { placeUnderFreeKey } from './replace.js'
import type { SaveChange } from './save-plan.js'
import { SaveRefusal } from './save-refusal.js'
import { buildKey } from './upload-path.js'

/** How the lifecycle writes and re-reads the saved record (the AdminJS hooks give it the adapter's). */
export interface RecordAccess<R extends RecordView> {
  resourceId: string
  /** The record as it is now (under this record's Save lock). */
  record: R
  /** Writes the columns; false when the record refused them (a validation error), true once written. */
  update(params: Record<string, unknown>): Promise<boolean>
  /** The record as the database holds it now; null once it is gone. */
  reread(): Promise<RecordView | null>
}

export type CommitOutcome = 'committed' | 'refused-by-record'

/**
 * The commit rule, the one place where a Save touches files:
 * - before the record update, every failure undoes what this Save placed, and the error is thrown
 *   (the caller answers it; nothing this Save did is left);
 * - once the update succeeded, nothing the record points at is ever removed, and nothing is thrown:
 *   the staged uploads and the files the record no longer holds are removed best effort, and a
 *   failure there is logged, never turned into a rollback.
 * A new file is placed under a key where no file is, so the old one keeps its bytes until the record
 * points elsewhere. Call it under `oneSaveAtATime` for the record.
 */
export async function commitSave<R extends RecordView>(feature: RegisteredFeature, change: SaveChange, access: RecordAccess<R>): Promise<CommitOutcome> {
  const { files } = feature.storage
  const before = storedEntries(feature, access.record)
  // Another Save may have removed a kept file since the form was checked: nothing is placed then.
  for (const slot of change.slots) {
    if ('keep' in slot && !before.some((entry) => entry.key === slot.keep)) throw SaveRefusal.of('changed')
  }
  const placed: string[] = []
  const undo = () => removeQuietly(feature, placed, 'a file this Save placed')
  const entries: StoredEntry[] = []
  try {
    for (const slot of change.slots) {
      if ('keep' in slot) {
        entries.push(before.find((entry) => entry.key === slot.keep)!)
        continue
      }
      const { upload, completion } = slot
      const finished = await feature.storage.staging.finished(upload.id)
      if (!finished) throw SaveRefusal.of('uploadGone')
      const key = await placeUnderFreeKey(files, finished, buildKey(feature.policy.uploadPath, access.resourceId, access.record, upload.filename))
      placed.push(key)
      entries.push({
        key,
        filename: upload.filename,
        size: upload.totalSize,
        mimeType: await checkedType(feature, upload, key),
        relativePath: upload.relativePath ?? null,
        checksum: completion.sha256 ?? null,
        metadata: completion.metadata ? JSON.stringify(completion.metadata) : null,
      })
    }
  } catch (error) {
    await undo()
    throw error
  }

  let accepted: boolean
  try {
    accepted = await access.update(entryColumns(feature, entries))
  } catch (error) {
    // A failed update may still have been written (a lost answer): then the record points at the
    // new files, and they stay.
    const now = await access.reread().catch(() => undefined)
    if (!now || !sameKeys(storedEntries(feature, now), entries)) {
      await undo()
      throw error
    }
    accepted = true
  }
  if (!accepted) {
    // The record refused the new values: it still points at its old files, which are untouched.
    await undo()
    return 'refused-by-record'
  }

  // Committed: from here on nothing is thrown and nothing the record points at is removed.
  for (const slot of change.slots) {
    if ('upload' in slot) {
      await feature.storage.staging.remove(slot.upload.id)
        .catch((error) => console.error('adminjs-resumable: removing a saved upload from staging failed', error))
    }
  }
  // A Save of another process may have updated the record meanwhile: the last update wins, and only
  // a Save whose files the record holds removes the ones it dropped.
  let current: StoredEntry[]
  try {
    current = storedEntries(feature, await access.reread())
  } catch (error) {
    console.error('adminjs-resumable: re-reading the saved record failed; its former files are kept', error)
    return 'committed'
  }
  const kept = new Set(current.map((entry) => entry.key))
  const mine = new Set(entries.map((entry) => entry.key))
  const unused = sameKeys(current, entries)
    ? before.map((entry) => entry.key).filter((key) => !mine.has(key))
    : placed.filter((key) => !kept.has(key))
  await removeQuietly(feature, unused, 'a file the record no longer holds')
  return 'committed'
}

/** Best effort: a file that cannot be removed now is left (and logged), never an error of the Save. */
export async function removeQuietly(feature: RegisteredFeature, keys: Iterable<string>, what: string): Promise<void> {
  for (const key of keys) {
    await feature.storage.files.delete(key).catch((error) => console.error(`adminjs-resumable: removing ${what} failed`, error))
  }
}
