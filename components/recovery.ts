/**
 * Uploads left unfinished by a closed tab or a crashed browser. The server is the truth: it lists
 * this admin's staged uploads of the property (GET `<target>/uploads`) and discards one by its
 * reference. The browser only remembers which file each was (name, size, last modified), to say
 * which file to pick again and to notice when the picked one differs.
 */
import { parseAnswer, REQUEST_HEADERS, withQuery } from './protocol.js'

export interface UnfinishedUpload {
  reference: string
  filename: string
  size: number
  receivedBytes: number
  percent: number
  complete: boolean
  createdAt: string
  updatedAt: string
}

export interface RememberedFile {
  name: string
  size: number
  lastModified: number
}

function isUnfinished(value: unknown): value is UnfinishedUpload {
  const v = value as Record<string, unknown> | null
  return !!v && typeof v.reference === 'string' && typeof v.filename === 'string' && typeof v.size === 'number'
    && typeof v.percent === 'number' && typeof v.createdAt === 'string'
}

/** The server's list, or null when it could not be had (offline, logged out: nothing to show). */
export async function listUnfinished(target: string): Promise<UnfinishedUpload[] | null> {
  try {
    const response = await fetch(`${target}/uploads`, { headers: REQUEST_HEADERS, credentials: 'same-origin' })
    if (!response.ok) return null
    const body = (await response.json()) as { uploads?: unknown }
    return Array.isArray(body.uploads) ? body.uploads.filter(isUnfinished) : null
  } catch {
    return null
  }
}

/** Cancels an upload by its reference; the server's message when it refused. */
export async function discardUnfinished(target: string, reference: string): Promise<{ ok: boolean; message?: string }> {
  try {
    const response = await fetch(withQuery(target, { reference }), {
      method: 'DELETE', headers: REQUEST_HEADERS, credentials: 'same-origin',
    })
    // Already gone is as good as discarded.
    if (response.ok || response.status === 404) return { ok: true }
    return { ok: false, message: parseAnswer(await response.text())?.message }
  } catch {
    return { ok: false }
  }
}

const STORAGE_KEY = 'adminjs-resumable:files'
const PER_TARGET = 20

function readAll(): Record<string, RememberedFile[]> {
  try {
    const value = JSON.parse(window.localStorage.getItem(STORAGE_KEY) ?? '{}') as unknown
    return value && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, RememberedFile[]> : {}
  } catch {
    return {}
  }
}

function writeAll(all: Record<string, RememberedFile[]>): void {
  try {
    window.localStorage.setItem(STORAGE_KEY, JSON.stringify(all))
  } catch {
    // Private mode or full: the list still works, only without "which file" details.
  }
}

function sameFile(a: { name: string; size: number }, b: { name: string; size: number }): boolean {
  return a.size === b.size && a.name === b.name
}

/** Remembers the file picked for `target` (the latest copy of a name and size wins). */
export function rememberFile(target: string, file: File): void {
  const all = readAll()
  const entry: RememberedFile = { name: file.name, size: file.size, lastModified: file.lastModified }
  const kept = (all[target] ?? []).filter((f) => !sameFile(f, entry))
  all[target] = [entry, ...kept].slice(0, PER_TARGET)
  writeAll(all)
}

/** The file an unfinished upload was started from, as far as this browser knows. */
export function rememberedFor(target: string, upload: UnfinishedUpload): RememberedFile | null {
  return (readAll()[target] ?? []).find((f) => sameFile(f, { name: upload.filename, size: upload.size })) ?? null
}

export function forgetFile(target: string, upload: UnfinishedUpload): void {
  const all = readAll()
  all[target] = (all[target] ?? []).filter((f) => !sameFile(f, { name: upload.filename, size: upload.size }))
  writeAll(all)
}

/** Whether `picked` is the file of `upload`: same name and size, and not modified since (when known). */
export function pickedMatches(picked: RememberedFile, upload: UnfinishedUpload, remembered: RememberedFile | null): 'same' | 'changed' | 'other' {
  if (!sameFile(picked, { name: upload.filename, size: upload.size })) return 'other'
  return remembered && remembered.lastModified !== picked.lastModified ? 'changed' : 'same'
}
