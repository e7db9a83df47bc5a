/**
 * The body of the thread that computes files' SHA-256 (see prefix-hash.ts). It runs as an eval'd
 * worker (`new Worker(source, { eval: true })`), so it is one self-contained function that loads
 * only Node's own modules: the same code runs from the build and from the TypeScript sources.
 *
 * Per upload it keeps the hash of the longest run of held chunks from the start (the prefix).
 *
 * - Where the store names its staging files (local), the thread extends the prefix by reading the
 *   chunks that now follow it back from the staging file, just written and so still in the page
 *   cache, with plain synchronous reads into one buffer: this thread does nothing else, none of it
 *   touches the server's event loop, and no chunk's bytes are kept in memory whatever the order of
 *   arrival or the number of uploads. Which chunks are held it reads from the store's own marks, so
 *   chunks other processes received are hashed too.
 * - Without staging files (S3: parts cannot be read before the object is assembled), the chunks'
 *   sinks copy their bytes here as they stream; chunks that arrive before the prefix reaches them
 *   are kept in memory up to one bound shared by every upload of the process. A chunk past the bound
 *   breaks the prefix, and the digest then reads the finished object once.
 *
 * A chunk replaced behind the prefix breaks it too.
 */
export function hashWorkerMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports -- an eval'd worker is a CommonJS script */
  const { parentPort } = require('node:worker_threads') as typeof import('node:worker_threads')
  const { createHash } = require('node:crypto') as typeof import('node:crypto')
  const fs = require('node:fs') as typeof import('node:fs')
  /* eslint-enable @typescript-eslint/no-require-imports */

  interface Files { data: string; complete: string; received: string }
  interface Layout { chunkSize: number; totalSize: number; chunkCount: number }
  interface Entry {
    hash: import('node:crypto').Hash
    next: number
    broken: boolean
    fd: number | null
    used: number
    /** Fed uploads (S3): bytes of held chunks past the prefix, by chunk number. */
    early: Map<number, Uint8Array[]>
  }
  type Message =
    | { type: 'advance'; key: string; files: Files; layout: Layout; replaced?: number }
    | { type: 'digest'; ask: number; key: string; files: Files | null; layout: Layout }
    | { type: 'piece'; ask: number; bytes: Uint8Array }
    | { type: 'chunk-piece'; attempt: number; bytes: Uint8Array }
    | { type: 'chunk-held'; attempt: number; key: string; chunkNumber: number }
    | { type: 'chunk-failed'; attempt: number }
    | { type: 'end'; ask: number }
    | { type: 'forget'; key: string }
    | { type: 'stats'; ask: number }

  const LIMIT = 256
  const buffer = Buffer.allocUnsafe(256 * 1024)
  const entries = new Map<string, Entry>()
  const streams = new Map<number, import('node:crypto').Hash>()
  let clock = 0
  /**
   * Bytes of fed chunks kept in memory, for every upload of the process together: chunks still
   * streaming, and chunks that arrived before the one the hash needs next. Past this, a chunk's bytes
   * are dropped and its upload's digest reads the finished object instead.
   */
  const KEPT_LIMIT = 32 * 1024 * 1024
  let keptBytes = 0
  const attempts = new Map<number, { pieces: Uint8Array[]; bytes: number; dropped: boolean }>()
  const size = (pieces: Uint8Array[]) => pieces.reduce((n, p) => n + p.length, 0)
  /**
   * Moves spent batches back to the event loop, which fills them again: freed here they would wait
   * for this thread's rare garbage collections (see batch-pool.ts).
   */
  const recycle = (pieces: Uint8Array[], answer: object = {}) => {
    const buffers = [...new Set(pieces.map((p) => p.buffer as ArrayBuffer))].filter((b) => b.byteLength > 0)
    if (buffers.length || Object.keys(answer).length) parentPort!.postMessage({ ...answer, recycled: buffers }, buffers)
  }

  const dropEarly = (entry: Entry) => {
    for (const pieces of entry.early.values()) {
      keptBytes -= size(pieces)
      recycle(pieces)
    }
    entry.early.clear()
  }
  const breakPrefix = (entry: Entry) => {
    entry.broken = true
    dropEarly(entry)
  }
  const close = (entry: Entry) => {
    if (entry.fd !== null) fs.closeSync(entry.fd)
    entry.fd = null
  }
  const forget = (key: string) => {
    const entry = entries.get(key)
    if (entry) {
      close(entry)
      dropEarly(entry)
    }
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
      entry = { hash: createHash('sha256'), next: 1, broken: false, fd: null, used: 0, early: new Map() }
      entries.set(key, entry)
    }
    entry.used = ++clock
    return entry
  }
  /**
   * Uploads whose digest was given: a chunk of theirs announced after it (another request of this
   * process that stored its chunk just before the completing one) was hashed already.
   */
  const digested = new Set<string>()
  const wasDigested = (key: string) => digested.has(key)

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
  /** Extends a staged upload's prefix with the chunks its marks say are held, read back from staging. */
  const extendFromStaging = (entry: Entry, files: Files, layout: Layout) => {
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
      breakPrefix(entry)
    }
  }
  /** Extends a fed upload's prefix with the chunks in memory that now follow it. */
  const extendFromMemory = (entry: Entry) => {
    for (let pieces = entry.early.get(entry.next); pieces; pieces = entry.early.get(entry.next)) {
      for (const piece of pieces) entry.hash.update(piece)
      keptBytes -= size(pieces)
      recycle(pieces)
      entry.early.delete(entry.next)
      entry.next++
    }
  }
  const chunkHeld = (message: { attempt: number; key: string; chunkNumber: number }) => {
    const attempt = attempts.get(message.attempt)
    attempts.delete(message.attempt)
    const kept = attempt && !attempt.dropped ? attempt : null
    if (wasDigested(message.key)) {
      if (kept) {
        keptBytes -= kept.bytes
        recycle(kept.pieces)
      }
      return
    }
    const entry = entryOf(message.key)
    // Bytes not kept, or a chunk replaced behind the hash: the digest reads the finished object.
    if (!kept || entry.broken || message.chunkNumber < entry.next) {
      if (kept) {
        keptBytes -= kept.bytes
        recycle(kept.pieces)
      }
      breakPrefix(entry)
      return
    }
    const replaced = entry.early.get(message.chunkNumber)
    if (replaced) {
      keptBytes -= size(replaced)
      recycle(replaced)
    }
    entry.early.set(message.chunkNumber, kept.pieces)
    extendFromMemory(entry)
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
        if (wasDigested(message.key)) return
        const entry = entryOf(message.key)
        if (message.replaced !== undefined && message.replaced < entry.next) breakPrefix(entry)
        extendFromStaging(entry, message.files, message.layout)
        return
      }
      case 'chunk-piece': {
        let attempt = attempts.get(message.attempt)
        if (!attempt) attempts.set(message.attempt, attempt = { pieces: [], bytes: 0, dropped: false })
        if (attempt.dropped) {
          recycle([message.bytes])
          return
        }
        if (keptBytes + message.bytes.length > KEPT_LIMIT) {
          keptBytes -= attempt.bytes
          recycle([...attempt.pieces, message.bytes])
          attempt.pieces = []
          attempt.bytes = 0
          attempt.dropped = true
          return
        }
        attempt.pieces.push(message.bytes)
        attempt.bytes += message.bytes.length
        keptBytes += message.bytes.length
        return
      }
      case 'chunk-held':
        chunkHeld(message)
        return
      case 'chunk-failed': {
        const attempt = attempts.get(message.attempt)
        attempts.delete(message.attempt)
        if (attempt && !attempt.dropped) {
          keptBytes -= attempt.bytes
          recycle(attempt.pieces)
        }
        return
      }
      case 'digest': {
        const entry = entryOf(message.key)
        try {
          if (message.files) extendFromStaging(entry, message.files, message.layout)
          let hex: string | null = null
          if (!entry.broken && entry.next > message.layout.chunkCount) hex = entry.hash.digest('hex')
          else if (message.files) hex = wholeFile(message.files)
          forget(message.key)
          digested.add(message.key)
          if (digested.size > LIMIT) digested.delete(digested.values().next().value!)
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
        recycle([message.bytes], { ask: message.ask, acked: message.bytes.length })
        return
      case 'end': {
        const hash = streams.get(message.ask)
        streams.delete(message.ask)
        parentPort!.postMessage({ ask: message.ask, hex: hash ? hash.digest('hex') : null, error: hash ? undefined : 'no such digest' })
        return
      }
      case 'forget':
        forget(message.key)
        return
      case 'stats':
        parentPort!.postMessage({ ask: message.ask, stats: { keptBytes, uploads: entries.size } })
    }
  })
}
