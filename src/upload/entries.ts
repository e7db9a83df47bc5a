import type { RegisteredFeature } from './registry.js'

/** What the lifecycle reads of a record: an id and its values by path (AdminJS's BaseRecord fits). */
export interface RecordView {
  id(): string | number
  get(path: string): unknown
}

/** One stored file as the record's columns describe it. */
export interface StoredEntry {
  key: string
  filename: unknown
  size: unknown
  mimeType: unknown
  relativePath: unknown
  checksum: unknown
  metadata: unknown
}

const FIELDS = ['filename', 'size', 'mimeType', 'relativePath', 'checksum', 'metadata'] as const

/**
 * The record's files, in order. A single-file property is a list of at most one (its columns hold
 * one value each); with `multiple` every column holds an array, one entry per file. Entries
 * without a key string are skipped.
 */
export function storedEntries(feature: RegisteredFeature, record: RecordView | null | undefined): StoredEntry[] {
  if (!record) return []
  const { mapping } = feature
  const read = (name: string | undefined): unknown[] => {
    if (!name) return []
    const value = record.get(name)
    if (feature.policy.multiple) return Array.isArray(value) ? value : []
    return [value]
  }
  const columns = Object.fromEntries(FIELDS.map((field) => [field, read(mapping[field])])) as Record<typeof FIELDS[number], unknown[]>
  const entries: StoredEntry[] = []
  read(mapping.key).forEach((key, i) => {
    if (typeof key !== 'string' || !key) return
    const entry = { key } as StoredEntry
    for (const field of FIELDS) entry[field] = columns[field][i] ?? null
    entries.push(entry)
  })
  return entries
}

/**
 * The record's columns for a list of files: with `multiple` one array per column; otherwise the one
 * file's values, or null in every column for none.
 */
export function entryColumns(feature: RegisteredFeature, entries: StoredEntry[]): Record<string, unknown> {
  const { mapping } = feature
  const params: Record<string, unknown> = {}
  const multiple = feature.policy.multiple
  params[mapping.key] = multiple ? entries.map((e) => e.key) : entries[0]?.key ?? null
  for (const field of FIELDS) {
    const column = mapping[field]
    if (column) params[column] = multiple ? entries.map((e) => e[field]) : entries[0]?.[field] ?? null
  }
  return params
}

/** Both lists name the same files in the same order. */
export function sameKeys(a: StoredEntry[], b: StoredEntry[]): boolean {
  return a.length === b.length && a.every((entry, i) => entry.key === b[i].key)
}
