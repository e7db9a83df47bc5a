/**
 * The digests a direct upload carries: each part's SHA-256 (signed into its URL, so the bucket
 * checks the bytes), and the whole file's, hashed in order alongside the upload for the report that
 * completes it. Part digests use WebCrypto where the page has it; the file's needs an incremental
 * hash (sha256-stream.ts), fed in slices so that the page stays responsive.
 */
import { chunkCount, chunkLength, chunkOffset, type ChunkLayout } from '../src/shared/arithmetic.js'
import { digestHex } from '../src/shared/chunk-digest.js'
import { Sha256 } from './sha256-stream.js'

/** What the file hash reads at once: small enough that one update never blocks the page for long. */
const FILE_HASH_SLICE = 2 * 1024 * 1024

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const subtle = globalThis.crypto?.subtle
  if (typeof subtle?.digest === 'function') return digestHex(await subtle.digest('SHA-256', bytes))
  return new Sha256().update(new Uint8Array(bytes)).hex()
}

export class FileHashes {
  readonly parts: number
  private readonly digests = new Map<number, Promise<string>>()
  private readonly done = new Map<number, string>()
  private whole: Promise<string> | null = null
  private wholeDone: string | undefined

  constructor(private readonly file: Blob, private readonly layout: ChunkLayout) {
    this.parts = chunkCount(layout)
  }

  /** Part `n`'s SHA-256 (1-based), read once; a failed read is tried again on the next call. */
  part(n: number): Promise<string> {
    let digest = this.digests.get(n)
    if (!digest) {
      const start = chunkOffset(this.layout, n)
      digest = this.file.slice(start, start + chunkLength(this.layout, n)).arrayBuffer().then(sha256Hex)
      digest.then((hex) => this.done.set(n, hex), () => this.digests.delete(n))
      this.digests.set(n, digest)
    }
    return digest
  }

  /** Part `n`'s digest if it is known already, for the requests that cannot wait for it. */
  knownPart(n: number): string | undefined {
    return this.done.get(n)
  }

  /** The whole file's SHA-256, started on the first call and hashed in order in the background. */
  fileSha256(): Promise<string> {
    if (!this.whole) {
      this.whole = this.hashFile()
      this.whole.then((hex) => { this.wholeDone = hex }, () => { this.whole = null })
    }
    return this.whole
  }

  knownFileSha256(): string | undefined {
    return this.wholeDone
  }

  private async hashFile(): Promise<string> {
    const hash = new Sha256()
    for (let offset = 0; offset < this.file.size; offset += FILE_HASH_SLICE) {
      hash.update(new Uint8Array(await this.file.slice(offset, offset + FILE_HASH_SLICE).arrayBuffer()))
    }
    return hash.hex()
  }
}
