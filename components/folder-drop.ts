/**
 * The files of a drop, folders included: each file found inside a dropped folder carries its path
 * below the drop (`holiday/day 1/a.jpg`) as `relativePath`, which Resumable.js sends as
 * `resumableRelativePath`. The server keeps it as sanitised metadata only.
 */
import type { PickedFile } from './multi-upload-controller.js'

interface Entry {
  isFile: boolean
  isDirectory: boolean
  name: string
  fullPath: string
  file?(ok: (file: File) => void, fail: (error: unknown) => void): void
  createReader?(): { readEntries(ok: (entries: Entry[]) => void, fail: (error: unknown) => void): void }
}

/** Files deeper than this, or more than MAX_FILES, are left out rather than freezing the page. */
const MAX_DEPTH = 16
const MAX_FILES = 1000

async function walk(entry: Entry, out: PickedFile[], depth: number): Promise<void> {
  if (out.length >= MAX_FILES || depth > MAX_DEPTH) return
  if (entry.isFile && entry.file) {
    const file = await new Promise<File>((ok, fail) => entry.file!(ok, fail)) as PickedFile
    // A folder's file: its path below the drop, without the leading slash.
    if (depth > 0) file.relativePath = entry.fullPath.replace(/^\/+/, '')
    out.push(file)
    return
  }
  if (entry.isDirectory && entry.createReader) {
    const reader = entry.createReader()
    // readEntries answers in batches until an empty one.
    for (;;) {
      const batch = await new Promise<Entry[]>((ok, fail) => reader.readEntries(ok, fail))
      if (!batch.length) break
      for (const child of batch) await walk(child, out, depth + 1)
    }
  }
}

export async function droppedFiles(transfer: DataTransfer): Promise<PickedFile[]> {
  const items = Array.from(transfer.items ?? [])
  const entries = items
    .map((item) => (item as unknown as { webkitGetAsEntry?(): Entry | null }).webkitGetAsEntry?.() ?? null)
    .filter((entry): entry is Entry => entry !== null)
  if (!entries.length) return Array.from(transfer.files ?? [])
  const out: PickedFile[] = []
  try {
    for (const entry of entries) await walk(entry, out, 0)
  } catch {
    // A folder the browser will not read: fall back to the plain files of the drop.
    return Array.from(transfer.files ?? [])
  }
  return out
}
