import { createHash, type Hash } from 'node:crypto'
import { chunkLength, chunkOffset } from '../shared/arithmetic.js'
import type { StagingStore } from '../store/staging.js'
import type { UploadManifest } from '../store/types.js'

interface Entry {
  hash: Hash
  /** The first chunk not hashed yet. */
  next: number
  /** Advances run one after the other: a hash takes its bytes in order. */
  running: Promise<void>
  broken: boolean
}

/**
 * SHA-256 of uploads as their chunks arrive, without reading the finished file again. A hash takes
 * its bytes in order while chunks arrive out of order and several at once, so each upload keeps the
 * hash of its longest run of held chunks from the start (its prefix), and after every stored chunk
 * the chunks that now extend that run are read back from staging (just written, so from the page
 * cache, not the disk) and added. The bytes always come from the store after their chunk was
 * marked held, whoever wrote them: an upload whose chunks arrive at several processes, or one this
 * process knew nothing of before a restart, is still hashed right, from its first chunk on.
 *
 * The state lives in this process only. When it is lost (restart, evicted, a store without
 * `readHeld`), `digest` reads what is missing, at worst the whole file once.
 */
export class PrefixHashes {
  private readonly entries = new Map<string, Entry>()

  constructor(private readonly limit = 256) {}

  /** Hashes the chunks that now extend the prefix, in the background (never fails the caller). */
  advance(store: StagingStore, manifest: UploadManifest): void {
    if (!store.readHeld) return
    void this.extend(store, manifest)
  }

  /** The file's SHA-256, hex: the prefix run to the end, or a full read of the finished file. */
  async digest(store: StagingStore, manifest: UploadManifest): Promise<string> {
    const key = keyOf(manifest)
    if (store.readHeld) await this.extend(store, manifest)
    const entry = this.entries.get(key)
    this.entries.delete(key)
    if (entry && !entry.broken && entry.next > manifest.chunkCount) return entry.hash.digest('hex')
    const finished = await store.finished(manifest.id)
    if (!finished) throw new Error('the upload is not complete')
    const hash = createHash('sha256')
    for await (const piece of finished.read()) hash.update(piece as Buffer)
    return hash.digest('hex')
  }

  forget(manifest: UploadManifest): void {
    this.entries.delete(keyOf(manifest))
  }

  private extend(store: StagingStore, manifest: UploadManifest): Promise<void> {
    const key = keyOf(manifest)
    let entry = this.entries.get(key)
    if (!entry) {
      if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value as string)
      entry = { hash: createHash('sha256'), next: 1, running: Promise.resolve(), broken: false }
      this.entries.set(key, entry)
    }
    const current = entry
    current.running = current.running.then(async () => {
      if (current.broken) return
      try {
        await runPrefix(store, manifest, current)
      } catch {
        // Removed meanwhile, or the disk failed: digest() falls back to reading the finished file.
        current.broken = true
      }
    })
    return current.running
  }
}

async function runPrefix(store: StagingStore, manifest: UploadManifest, entry: Entry): Promise<void> {
  const layout = { totalSize: manifest.totalSize, chunkSize: manifest.chunkSize, forceChunkSize: manifest.forceChunkSize }
  while (entry.next <= manifest.chunkCount && (await store.chunkState(manifest.id, entry.next)) === 'held') {
    const start = chunkOffset(layout, entry.next)
    const end = start + chunkLength(layout, entry.next) - 1
    // Hashed into a copy, so a read that fails halfway leaves the prefix as it was.
    const hash = entry.hash.copy()
    let bytes = 0
    for await (const piece of store.readHeld!(manifest.id, { start, end })) {
      hash.update(piece as Buffer)
      bytes += (piece as Buffer).length
    }
    if (bytes !== end - start + 1) throw new Error('short read')
    entry.hash = hash
    entry.next++
  }
}

/** A cancelled upload started again under the same id is another upload: its own hash. */
function keyOf(manifest: UploadManifest): string {
  return `${manifest.id}\0${manifest.createdAt}`
}
