import { createHash, randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { InvalidRequest } from '../../errors.js'

/**
 * The names the local store gives its entries in the staging folder. The store removes only
 * entries whose names match these patterns, so a staging folder shared with other files (by
 * mistake, or the OS temp folder) loses nothing that is not the store's.
 *
 * Per upload, `<staging>/<id>/` holds:
 * - `manifest.json`: written once, before the folder appears (the folder is renamed into place);
 * - `data`: a file of the final size; each chunk is written at its own offset, so finishing is a
 *   rename and never a second pass over the bytes;
 * - `received`: one mark byte per chunk, set to 1 only after that chunk's bytes are all written.
 *   Test requests read one byte of it; it survives restarts and is safe across processes because
 *   every chunk owns a distinct offset;
 * - `digests`: 32 bytes per chunk, the SHA-256 the client sent with the chunk's verified bytes
 *   (zeros: none was sent). Written before the chunk's mark, so a held chunk's digest is readable
 *   by any process;
 * - `lock-<n>`: a symbolic link naming its owner, present while one request writes chunk n;
 * - `complete`: `data`, renamed once every chunk is held. The rename is atomic, so exactly one
 *   request finishes the upload and nobody ever sees a half-written finished file.
 * - `completion.json`: what the route settled once it was complete (checksum, hook metadata),
 *   written to `completion.json.<nonce>` first and renamed into place.
 * An expired upload leaves `<staging>/<id>.expired` so later requests get a clear 410.
 *
 * Per owner (named by a hash, since an owner is any string), while one of its uploads is created:
 * - `.owner-<hash>.lock`: a lock held only while that owner's usage is counted and a reservation
 *   made, so that processes sharing the folder count one after the other;
 * - `.reserve-<hash>-<id>-<bytes>`: a symbolic link naming its holder, counted as one of the
 *   owner's uploads until the upload's folder is in place (owner-reservations.ts).
 */
export const ID = /^[a-f0-9]{40}$/
export const TOMBSTONE = /^([a-f0-9]{40})\.expired$/
/** A folder being created (`.creating-<id>-<nonce>`) or removed (`.trash-<id>-<nonce>`). */
export const CREATING = /^\.creating-[a-f0-9]{40}-[a-f0-9]{16}$/
export const TRASH = /^\.trash-[a-f0-9]{40}-[a-f0-9]{16}$/
export const CHUNK_LOCK = /^lock-\d+$/
export const OWNER_LOCK = /^\.owner-[a-f0-9]{32}\.lock$/
export const RESERVATION = /^\.reserve-([a-f0-9]{32})-([a-f0-9]{40})-(\d+)$/
/** A file-placing link of earlier versions, left by a crash. */
export const LEGACY_COMMIT = /^\.commit-[a-f0-9]{16}$/

export const FILES = {
  manifest: 'manifest.json', data: 'data', received: 'received', complete: 'complete', completion: 'completion.json',
  digests: 'digests',
} as const

export function nonce(): string {
  return randomBytes(8).toString('hex')
}

export class StagingLayout {
  constructor(readonly root: string) {}

  upload(id: string): string {
    if (!ID.test(id)) throw new InvalidRequest('Invalid upload id.')
    return join(this.root, id)
  }

  file(id: string, name: keyof typeof FILES): string {
    return join(this.upload(id), FILES[name])
  }

  chunkLock(id: string, chunkNumber: number): string {
    return join(this.upload(id), `lock-${chunkNumber}`)
  }

  tombstone(id: string): string {
    return `${this.upload(id)}.expired`
  }

  creating(id: string): string {
    return join(this.root, `.creating-${id}-${nonce()}`)
  }

  ownerLock(owner: string): string {
    return join(this.root, `.owner-${ownerHash(owner)}.lock`)
  }

  reservation(owner: string, id: string, bytes: number): string {
    if (!ID.test(id)) throw new InvalidRequest('Invalid upload id.')
    return join(this.root, `.reserve-${ownerHash(owner)}-${id}-${bytes}`)
  }

  trash(id: string): string {
    return join(this.root, `.trash-${id}-${nonce()}`)
  }
}

/** An owner as it appears in file names: any string, reduced to a fixed set of characters. */
export function ownerHash(owner: string): string {
  return createHash('sha256').update(owner).digest('hex').slice(0, 32)
}
