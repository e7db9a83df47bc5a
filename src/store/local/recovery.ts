import { lstat, readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { tombstoneLifetime } from '../tombstones.js'
import type { SweepResult, UploadManifest } from '../types.js'
import { isMissing } from './fs-errors.js'
import { CHUNK_LOCK, CREATING, FILES, ID, LEGACY_COMMIT, OWNER_LOCK, RESERVATION, TOMBSTONE, TRASH } from './layout.js'
import { isStaleLock } from './lock.js'

/** Leftovers younger than this may belong to an operation in progress in another process. */
const LEFTOVER_GRACE_MS = 60_000
/** At start-up the TTL is not known: tombstones are kept as long as for a one-day TTL. */
const TOMBSTONE_TTL_MS = tombstoneLifetime(24 * 3600_000)

/** What recovery and the sweep need of the local staging store. */
export interface RecoverableStaging {
  readonly directory: string
  readonly lockStaleMs: number
  get(id: string): Promise<UploadManifest | null>
  finishIfReady(manifest: UploadManifest): Promise<boolean>
  remove(id: string, options: { expired: boolean }): Promise<void>
}

/** Removes uploads idle for longer than `ttlMs`, after the leftovers of crashed operations. */
export async function sweepStaging(store: RecoverableStaging, ttlMs: number, now: number): Promise<SweepResult> {
  // Leftovers first: tombstones written by this very sweep must survive it whatever `now` is.
  const removedLeftovers = await recover(store, now, false, tombstoneLifetime(ttlMs))
  const expired: string[] = []
  for (const name of await listStaging(store.directory)) {
    if (!ID.test(name)) continue
    // Only an upload's folder has these files: a stranger's folder that happens to match is not ours.
    const activity = await lastActivity(join(store.directory, name))
    if (activity !== null && now - activity > ttlMs) {
      await store.remove(name, { expired: true })
      expired.push(name)
    }
  }
  return { expired, removedLeftovers }
}

/**
 * Leftovers of crashed operations: half-created uploads, trash, stale chunk locks, owner locks and
 * reservations, and old tombstones, recognised by their names (layout.ts). Anything else in the staging folder is left
 * alone: it may be another program's. Uploads whose chunks are all held but that were not renamed
 * yet (a crash right between the two) are finished.
 */
export async function recover(store: RecoverableStaging, now: number, finishUploads: boolean, tombstoneTtlMs = TOMBSTONE_TTL_MS): Promise<number> {
  let removed = 0
  for (const name of await listStaging(store.directory)) {
    const path = join(store.directory, name)
    if (OWNER_LOCK.test(name) || RESERVATION.test(name)) {
      // Links to no file: looked at themselves (lstat), never followed.
      if ((await lstat(path).catch(() => null))?.isSymbolicLink() && (await isStaleLock(path, store.lockStaleMs, now))) {
        removed += await removePath(path)
      }
      continue
    }
    const info = await stat(path).catch(() => null)
    if (!info) continue
    const age = now - info.mtimeMs
    if (ID.test(name) && info.isDirectory()) {
      const manifest = await store.get(name).catch(() => null)
      if (!manifest) continue
      for (const entry of await readdir(path).catch(() => [] as string[])) {
        if (CHUNK_LOCK.test(entry) && (await isStaleLock(join(path, entry), store.lockStaleMs, now))) {
          removed += await removePath(join(path, entry))
        }
      }
      if (finishUploads) await store.finishIfReady(manifest).catch(() => false)
    } else if (TOMBSTONE.test(name) && info.isFile()) {
      if (age > tombstoneTtlMs) removed += await removePath(path)
    } else if (TRASH.test(name) || ((CREATING.test(name) || LEGACY_COMMIT.test(name)) && age > LEFTOVER_GRACE_MS)) {
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

/** When a chunk or the manifest was last written; null for a folder that is no upload. */
async function lastActivity(dir: string): Promise<number | null> {
  const times = await Promise.all(
    [FILES.received, FILES.manifest].map((f) => stat(join(dir, f)).then((s) => s.mtimeMs, () => 0)),
  )
  const latest = Math.max(...times)
  return latest > 0 ? latest : null
}

async function removePath(path: string): Promise<number> {
  await rm(path, { recursive: true, force: true }).catch(() => undefined)
  return 1
}
