import type { Readable } from 'node:stream'

/**
 * Everything the server knows about one upload, written once when the upload starts and checked
 * on every later request. Nothing here comes from a client string without sanitising, and nothing
 * is ever used to build a storage path except `id`, which the server computes.
 */
export interface UploadManifest {
  version: 1
  /**
   * The upload id: server-computed, a hash of (owner, resource, property, client identifier). The
   * browser gets it as the `reference` of a complete upload and sends it back on Save; it is the
   * same value under the protocol's name.
   */
  id: string
  owner: string
  resourceId: string
  propertyPath: string
  /** Sanitised display name. */
  filename: string
  /** Sanitised relative path of a file dropped with its folder (display metadata, never a path). */
  relativePath?: string
  /** Hash of the file name the client sent, to refuse a name change under one identifier. */
  rawFilenameHash: string
  type: string
  totalSize: number
  chunkSize: number
  forceChunkSize: boolean
  chunkCount: number
  createdAt: string
}

export type UploadState = 'missing' | 'expired' | 'partial' | 'complete'

export type ChunkState = 'held' | 'missing' | 'no-upload'

export interface ChunkWrite {
  chunkNumber: number
  offset: number
  length: number
  /** The chunk's bytes. Must deliver exactly `length` bytes; anything else is refused unmarked. */
  body: AsyncIterable<Buffer> & Readable
  /**
   * The SHA-256 (lower-case hex) the client computed for these bytes. When given, the store hashes
   * the body as it stores it and refuses a mismatch with ChunkDigestMismatch (nothing held), keeps
   * the digest with the chunk, and replaces a held chunk kept under another digest (or none).
   */
  sha256?: string
  /**
   * Optional: receives a copy of the bytes as they are stored, and whether the chunk ended held
   * (the file's SHA-256 on stores whose bytes cannot be read back before completion, see
   * integrity/prefix-hash.ts). A store that names its staged files does not need it.
   */
  sink?: ChunkSink
}

export interface ChunkSink {
  piece(bytes: Buffer): void
  /** The chunk is held, in the upload `manifest` describes (its `createdAt` tells a restarted upload apart). */
  held(manifest: UploadManifest): void
  failed(): void
}

export interface ChunkQuery {
  /** Held counts only when the chunk was stored under this digest (a complete upload is final). */
  sha256?: string
}

export interface WriteResult {
  /** True once every chunk is held and the upload is final (whoever finished it). */
  complete: boolean
  /** False when the chunk was already held and the body was discarded. */
  written: boolean
  /** True when the bytes replaced a held chunk's (sent again under another digest). */
  replaced?: boolean
}

/** How much one owner keeps in staging: uploads not saved yet (in progress or waiting for Save). */
export interface StagingUsage {
  uploads: number
  /** The sum of their declared total sizes. */
  bytes: number
}

/** What one owner may keep in staging; a new upload past either bound is refused (TooManyUploads). */
export interface OwnerLimits {
  uploads?: number
  bytes?: number
}

/** An upload still in staging (in progress, or finished and not saved yet), as the recovery list shows it. */
export interface StagedUpload {
  manifest: UploadManifest
  /** The bytes of the chunks held so far. */
  receivedBytes: number
  complete: boolean
  /** When a chunk (or the manifest) was last written, ISO 8601. */
  updatedAt: string
}

/**
 * What the route settled about a finished upload before handing out its reference: written once,
 * read by later requests and by Save.
 */
export interface UploadCompletion {
  /** SHA-256 of the whole file, lower-case hex; absent when no checksum column is configured. */
  sha256?: string
  /** What `onUploadComplete` returned as `metadata` (JSON). */
  metadata?: Record<string, unknown>
}

export interface FileStat {
  size: number
  modifiedAt: Date
}

export interface SweepResult {
  expired: string[]
  removedLeftovers: number
}
