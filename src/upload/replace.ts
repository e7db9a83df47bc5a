import { randomBytes } from 'node:crypto'
import type { FileStorage } from '../store/file-storage.js'
import type { FinishedUpload } from '../store/staging.js'

/**
 * Places a finished upload under `key`, or, when a file is already there (the record's current
 * file, or another Save's), under a variant of it (`name-<8 hex>.ext`). A file a record points at
 * is never overwritten: its bytes stay until the record points elsewhere. Returns the key used.
 */
export async function placeUnderFreeKey(files: FileStorage, upload: FinishedUpload, key: string): Promise<string> {
  if (await files.place(upload, key)) return key
  for (let attempt = 0; attempt < 5; attempt++) {
    const variant = variantKey(key, randomBytes(4).toString('hex'))
    if (await files.place(upload, variant)) return variant
  }
  throw new Error(`adminjs-resumable: no free key next to ${JSON.stringify(key)}`)
}

/** `documents/7/report.pdf` → `documents/7/report-<tag>.pdf`; the folder part is kept. */
export function variantKey(key: string, tag: string): string {
  const slash = key.lastIndexOf('/')
  const folder = key.slice(0, slash + 1)
  const name = key.slice(slash + 1)
  const dot = name.lastIndexOf('.')
  return dot > 0 ? `${folder}${name.slice(0, dot)}-${tag}${name.slice(dot)}` : `${folder}${name}-${tag}`
}

const saving = new Map<string, Promise<void>>()

/**
 * Runs the Saves of one record one after the other in this process, so that each sees the file the
 * previous one left and removes it. Saves in other processes are made safe by the checks in
 * afterSave (a Save deletes old files only while the record still points at its own).
 */
export async function oneSaveAtATime<T>(recordKey: string, run: () => Promise<T>): Promise<T> {
  for (let pending = saving.get(recordKey); pending; pending = saving.get(recordKey)) await pending
  let done!: () => void
  saving.set(recordKey, new Promise<void>((resolve) => { done = resolve }))
  try {
    return await run()
  } finally {
    saving.delete(recordKey)
    done()
  }
}
