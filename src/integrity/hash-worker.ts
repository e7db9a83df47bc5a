/**
 * The body of the thread that computes files' SHA-256 (see prefix-hash.ts). It runs as an eval'd
 * worker (`new Worker(source, { eval: true })`), so it is one self-contained function that loads
 * only Node's own modules: the same code runs from the build and from the TypeScript sources.
 *
 * Per upload it keeps the hash of the longest run of held chunks from the start (the prefix) and
 * extends it by reading the chunks that now follow it from the upload's staging file, with plain
 * synchronous reads: this thread does nothing else, and none of it touches the server's event loop.
 * Which chunks are held it reads from the store's own marks, so chunks other processes received are
 * hashed too. A chunk replaced behind the prefix breaks it; the digest then reads the whole file.
 */
export function hashWorkerMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports -- an eval'd worker is a CommonJS script */
  const { parentPort } = require('node:worker_threads') as typeof import('node:worker_threads')
  const { createHash } = require('node:crypto') as typeof import('node:crypto')
  const fs = require('node:fs') as typeof import('node:fs')
  /* eslint-enable @typescript-eslint/no-require-imports */

  interface Files { data: string; complete: string; received: string }
  interface Layout { chunkSize: number; totalSize: number; chunkCount: number }
  interface Entry { hash: import('node:crypto').Hash; next: number; broken: boolean; fd: number | null; used: number }
  /** An upload fed with its chunks' bytes as they stream (a store without staged files). */
  interface Fed { createdAt: string; hash: import('node:crypto').Hash; next: number; broken: boolean; early: Map<number, Uint8Array[]>; used: number }
  type Message =
    | { type: 'advance'; key: string; files: Files; layout: Layout; chunkNumber?: number }
    | { type: 'digest'; ask: number; key: string; id: string; createdAt: string; files: Files | null; layout: Layout }
    | { type: 'piece'; ask: number; bytes: Uint8Array }
    | { type: 'chunk-piece'; attempt: number; bytes: Uint8Array }
    | { type: 'chunk-held'; attempt: number; id: string; createdAt: string; chunkNumber: number }
    | { type: 'chunk-failed'; attempt: number }
    | { type: 'end'; ask: number }
    | { type: 'forget'; key: string }

  const LIMIT = 256
  const buffer = Buffer.allocUnsafe(1024 * 1024)
  const entries = new Map<string, Entry>()
  const streams = new Map<number, import('node:crypto').Hash>()
  let clock = 0
  /**
   * Bytes of fed chunks kept in memory: chunks still streaming, and chunks that arrived before the
   * one the hash needs next. Past this, a chunk's bytes are dropped and its upload's digest is read
   * from the finished file instead, so memory stays bounded whatever the order of arrival.
   */
  const FED_LIMIT = 48 * 1024 * 1024
  let fedBytes = 0
  const attempts = new Map<number, { pieces: Uint8Array[]; bytes: number; dropped: boolean }>()
  const fed = new Map<string, Fed>()
  const size = (pieces: Uint8Array[]) => pieces.reduce((n, p) => n + p.length, 0)
  const dropFed = (id: string) => {
    const entry = fed.get(id)
    if (entry) for (const pieces of entry.early.values()) fedBytes -= size(pieces)
    fed.delete(id)
  }
  const fedEntry = (id: string, createdAt: string): Fed => {
    let entry = fed.get(id)
    if (!entry || entry.createdAt !== createdAt) {
      dropFed(id)
      if (fed.size >= LIMIT) {
        let oldest: string | null = null
        for (const [k, e] of fed) if (oldest === null || e.used < fed.get(oldest)!.used) oldest = k
        if (oldest !== null) dropFed(oldest)
      }
      entry = { createdAt, hash: createHash('sha256'), next: 1, broken: false, early: new Map(), used: 0 }
      fed.set(id, entry)
    }
    entry.used = ++clock
    return entry
  }
  const chunkHeld = (message: { attempt: number; id: string; createdAt: string; chunkNumber: number }) => {
    const attempt = attempts.get(message.attempt)
    attempts.delete(message.attempt)
    const entry = fedEntry(message.id, message.createdAt)
    if (!attempt || attempt.dropped || message.chunkNumber < entry.next || entry.broken) {
      // Bytes not kept, or a chunk replaced behind the hash: the digest reads the finished file.
      if (attempt && !attempt.dropped) fedBytes -= attempt.bytes
      entry.broken = true
      for (const pieces of entry.early.values()) fedBytes -= size(pieces)
      entry.early.clear()
      return
    }
    const replaced = entry.early.get(message.chunkNumber)
    if (replaced) fedBytes -= size(replaced)
    entry.early.set(message.chunkNumber, attempt.pieces)
    for (let pieces = entry.early.get(entry.next); pieces; pieces = entry.early.get(entry.next)) {
      for (const piece of pieces) entry.hash.update(piece)
      fedBytes -= size(pieces)
      entry.early.delete(entry.next)
      entry.next++
    }
  }

  const close = (entry: Entry) => {
    if (entry.fd !== null) fs.closeSync(entry.fd)
    entry.fd = null
  }
  const forget = (key: string) => {
    const entry = entries.get(key)
    if (entry) close(entry)
    entries.delete(key)
  }
  const entryOf = (key: string): Entry => {
    let entry = entries.get(key)
    if (!entry) {
      if (entries.size >= LIMIT) {
        let oldest: string | null = null
        for (const [k, e] of entries) if (oldest === null || e.used < entries.get(oldest)!.used) oldest = k
        if (oldest !== null) forget(oldest)
      }
      entry = { hash: createHash('sha256'), next: 1, broken: false, fd: null, used: 0 }
      entries.set(key, entry)
    }
    entry.used = ++clock
    return entry
  }
  /** `data` until every chunk is held, then the same inode renamed to `complete`. */
  const openData = (files: Files): number => {
    try {
      return fs.openSync(files.data, 'r')
    } catch {
      return fs.openSync(files.complete, 'r')
    }
  }
  const hashRange = (fd: number, hash: import('node:crypto').Hash, start: number, length: number) => {
    let done = 0
    while (done < length) {
      const n = fs.readSync(fd, buffer, 0, Math.min(buffer.length, length - done), start + done)
      if (n <= 0) throw new Error('short read')
      hash.update(buffer.subarray(0, n))
      done += n
    }
  }
  const extend = (entry: Entry, files: Files, layout: Layout) => {
    if (entry.broken) return
    try {
      const marks = fs.readFileSync(files.received)
      while (entry.next <= layout.chunkCount && marks[entry.next - 1] === 1) {
        entry.fd ??= openData(files)
        const start = (entry.next - 1) * layout.chunkSize
        const length = entry.next === layout.chunkCount ? layout.totalSize - start : layout.chunkSize
        // Into a copy: a read that fails halfway leaves the prefix as it was.
        const hash = entry.hash.copy()
        hashRange(entry.fd, hash, start, length)
        entry.hash = hash
        entry.next++
      }
    } catch {
      // Removed meanwhile, or the disk failed: the digest reads the whole file (or reports why not).
      entry.broken = true
    }
  }
  const wholeFile = (files: Files): string => {
    const fd = fs.openSync(files.complete, 'r')
    try {
      const hash = createHash('sha256')
      hashRange(fd, hash, 0, fs.fstatSync(fd).size)
      return hash.digest('hex')
    } finally {
      fs.closeSync(fd)
    }
  }

  parentPort!.on('message', (message: Message) => {
    switch (message.type) {
      case 'advance': {
        const entry = entryOf(message.key)
        if (message.chunkNumber !== undefined && message.chunkNumber < entry.next) entry.broken = true
        extend(entry, message.files, message.layout)
        return
      }
      case 'chunk-piece': {
        let attempt = attempts.get(message.attempt)
        if (!attempt) attempts.set(message.attempt, attempt = { pieces: [], bytes: 0, dropped: false })
        if (attempt.dropped) return
        if (fedBytes + message.bytes.length > FED_LIMIT) {
          fedBytes -= attempt.bytes
          attempt.pieces = []
          attempt.bytes = 0
          attempt.dropped = true
          return
        }
        attempt.pieces.push(message.bytes)
        attempt.bytes += message.bytes.length
        fedBytes += message.bytes.length
        return
      }
      case 'chunk-held':
        chunkHeld(message)
        return
      case 'chunk-failed': {
        const attempt = attempts.get(message.attempt)
        attempts.delete(message.attempt)
        if (attempt && !attempt.dropped) fedBytes -= attempt.bytes
        return
      }
      case 'digest': {
        const entry = entryOf(message.key)
        try {
          if (message.files) extend(entry, message.files, message.layout)
          let hex: string | null = null
          const streamed = fed.get(message.id)
          if (message.files) {
            hex = !entry.broken && entry.next > message.layout.chunkCount ? entry.hash.digest('hex') : wholeFile(message.files)
          } else if (streamed && streamed.createdAt === message.createdAt && !streamed.broken && streamed.next > message.layout.chunkCount) {
            hex = streamed.hash.digest('hex')
          }
          dropFed(message.id)
          forget(message.key)
          // No staging file to read (another store): the caller streams the file in ('piece', 'end').
          if (hex === null) streams.set(message.ask, createHash('sha256'))
          parentPort!.postMessage({ ask: message.ask, hex })
        } catch (error) {
          forget(message.key)
          parentPort!.postMessage({ ask: message.ask, error: String((error as Error)?.message ?? error) })
        }
        return
      }
      case 'piece':
        streams.get(message.ask)?.update(message.bytes)
        parentPort!.postMessage({ ask: message.ask, acked: message.bytes.length })
        return
      case 'end': {
        const hash = streams.get(message.ask)
        streams.delete(message.ask)
        parentPort!.postMessage({ ask: message.ask, hex: hash ? hash.digest('hex') : null, error: hash ? undefined : 'no such digest' })
        return
      }
      case 'forget':
        forget(message.key)
    }
  })
}
