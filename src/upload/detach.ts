import { removeQuietly } from './commit.js'
import { storedEntries, type RecordView } from './entries.js'
import type { RegisteredFeature } from './registry.js'

/**
 * After a delete: the files of a record go only once the record is really gone. An adapter may
 * report a refused delete as a notice rather than an error (@adminjs/typeorm turns a foreign-key
 * violation into one, and AdminJS still runs the after hooks), so the record is read again: a record
 * still there, or one that cannot be read, keeps its files.
 */
export async function removeFilesOfDeleted(feature: RegisteredFeature, record: RecordView, reread: () => Promise<RecordView | null>): Promise<void> {
  let still: RecordView | null
  try {
    still = await reread()
  } catch (error) {
    console.error('adminjs-resumable: could not check that a deleted record is gone; its files are kept', error)
    return
  }
  if (still) return
  await removeQuietly(feature, storedEntries(feature, record).map((entry) => entry.key), 'a deleted record\'s file')
}
