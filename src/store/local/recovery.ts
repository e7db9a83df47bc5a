import { readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { SweepResult } from '../types.js'
import { isMissing } from './fs-errors.js'
import { ID } from './layout.js'
import { isStaleLock } from './lock.js'
import type { LocalStagingStore } from './staging.js'

/** Leftovers younger than this may belong to an operation in progress in another process. */
const LEFTOVER_GRACE_MS = 60_000
const TOMBSTONE_TTL_MS = 7 * 24 * 3600_000

/** Removes uploads idle for longer than `ttlMs`, after the leftovers of crashed operations. */
export async function sweepStaging(store: LocalStagingStore, ttlMs: number, now: number): Promise<SweepResult> {
  // Leftovers first: tombstones written by this very sweep must survive it whatever `now` is.
  const removedLeftovers = await recover(store, now, false, ttlMs * 7)
  const expired: string[] = []
  for (const name of await listStaging(store.directory)) {
    if (!ID.test(name)) continue
    const dir = join(store.directory, name)
    const activity = await lastActivity(dir)
    if (activity !== null && now - activity > ttlMs) {
      await store.remove(name, { expired: true })
      expired.push(name)
    }
  }
  return { expired, removedLeftovers }
}

/**
 * Leftovers of crashed operations: half-created uploads, trash, commit links, stale chunk locks,
 * old tombstones and anything else that is not an upload. Uploads whose chunks are all held but
 * that were not renamed yet (a crash right between the two) are finished.
 */
export async function recover(store: LocalStagingStore, now: number, finishUploads: boolean, tombstoneTtlMs = TOMBSTONE_TTL_MS): Promise<number> {
  let removed = 0
  for (const name of await listStaging(store.directory)) {
    const path = join(store.directory, name)
    const info = await stat(path).catch(() => null)
    if (!info) continue
    const age = now - info.mtimeMs
    if (ID.test(name) && info.isDirectory()) {
      const manifest = await store.get(name).catch(() => null)
      if (!manifest) {
        if (age > LEFTOVER_GRACE_MS) removed += await removePath(path)
        continue
      }
      for (const entry of await readdir(path).catch(() => [] as string[])) {
        if (entry.startsWith('lock-') && (await isStaleLock(join(path, entry), store.lockStaleMs, now))) {
          removed += await removePath(join(path, entry))
        }
      }
      if (finishUploads) await store.finishIfReady(manifest).catch(() => false)
    } else if (name.endsWith('.expired') && ID.test(name.slice(0, -8))) {
      if (age > tombstoneTtlMs) removed += await removePath(path)
    } else if (name.startsWith('.trash-') || age > LEFTOVER_GRACE_MS) {
      removed += await removePath(path)
    }
  }
  return removed
}

async function listStaging(directory: string): Promise<string[]> {
  try {
    return await readdir(directory)
  } catch (error) {
    if (isMissing(error)) return []
    throw error
  }
}

async function lastActivity(dir: string): Promise<number | null> {
  const times = await Promise.all(
    ['received', 'manifest.json'].map((f) => stat(join(dir, f)).then((s) => s.mtimeMs, () => 0)),
  )
  const latest = Math.max(...times)
  if (latest > 0) return latest
  return stat(dir).then((s) => s.mtimeMs, () => null)
}

async function removePath(path: string): Promise<number> {
  await rm(path, { recursive: true, force: true }).catch(() => undefined)
  return 1
}
