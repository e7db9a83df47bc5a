import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { StagingUsage, UploadManifest } from '../types.js'
import { isMissing } from './fs-errors.js'
import { FILES, ID, RESERVATION, ownerHash, type StagingLayout } from './layout.js'
import { isStaleLock } from './lock.js'

interface Known { owner: string; totalSize: number }

/**
 * What each owner keeps in staging, derived from the folder itself so that every process sharing
 * it counts the same uploads: one directory listing, plus one manifest read per upload this process
 * has not seen yet (a manifest never changes while its folder exists, and the owner is part of the
 * id, so the copy kept here stays right). Uploads being created anywhere count too, through their
 * reservations (owner-reservations.ts), unless their holder is gone.
 */
export class OwnerUsage {
  private readonly known = new Map<string, Known>()

  constructor(private readonly layout: StagingLayout, private readonly staleMs: number) {}

  async of(owner: string): Promise<StagingUsage> {
    let names: string[]
    try {
      names = await readdir(this.layout.root)
    } catch (error) {
      if (isMissing(error)) return { uploads: 0, bytes: 0 }
      throw error
    }
    const present = new Set<string>()
    const reserved: { id: string; bytes: number; path: string }[] = []
    const hash = ownerHash(owner)
    const usage = { uploads: 0, bytes: 0 }
    for (const name of names) {
      const reservation = RESERVATION.exec(name)
      if (reservation) {
        if (reservation[1] === hash) reserved.push({ id: reservation[2], bytes: Number(reservation[3]), path: join(this.layout.root, name) })
        continue
      }
      if (!ID.test(name)) continue
      present.add(name)
      let entry = this.known.get(name)
      if (!entry) {
        const manifest = await readManifest(join(this.layout.root, name, FILES.manifest))
        if (!manifest) continue
        entry = { owner: manifest.owner, totalSize: manifest.totalSize }
        this.known.set(name, entry)
      }
      if (entry.owner === owner) {
        usage.uploads++
        usage.bytes += entry.totalSize
      }
    }
    for (const id of this.known.keys()) if (!present.has(id)) this.known.delete(id)
    const counted = new Set<string>()
    for (const { id, bytes, path } of reserved) {
      // A folder already in place was counted above; a reservation is released just after it appears.
      if (present.has(id) || counted.has(id) || (await isStaleLock(path, this.staleMs))) continue
      counted.add(id)
      usage.uploads++
      usage.bytes += bytes
    }
    return usage
  }
}

async function readManifest(path: string): Promise<UploadManifest | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as UploadManifest
  } catch {
    // Not an upload (yet): a folder being removed, or a stranger's folder.
    return null
  }
}
