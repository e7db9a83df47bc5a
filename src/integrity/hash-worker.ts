/**
 * The body of the thread that computes files' SHA-256 (see prefix-hash.ts). It runs as an eval'd
 * worker (`new Worker(source, { eval: true })`), so it is one self-contained function that loads
 * only Node's own modules: the same code runs from the build and from the TypeScript sources.
 *
 * Per upload it keeps the hash of the longest run of held chunks from the start (the prefix). It
 * extends it with the bytes the chunks' sinks copied to it as they streamed to the store (the bytes
 * in hand: no second read), keeping chunks that arrive before the prefix reaches them in memory up
 * to a bound. Where the store names its staging files (local), a chunk the thread has no bytes for
 * (past the bound, or received by another process) is read back from the staging file, with plain
 * synchronous reads: this thread does nothing else, and none of it touches the server's event loop;
 * which chunks are held it reads from the store's own marks. Without staging files (S3) such a gap
 * breaks the prefix, as does a chunk replaced behind it; the digest then reads the whole file.
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
    /** Bytes of held chunks past the prefix, by chunk number. */
    early: Map<number, Uint8Array[]>
    /** Chunks past the prefix this process stored without keeping their bytes: read back from staging. */
    onDisk: Set<number>
    /** The staging files to read a chunk back from (null: a store without them). */
    files: Files | null
    layout: Layout | null
  }
  type Message =
    | { type: 'advance'; key: string; files: Files; layout: Layout; chunkNumber?: number }
    | { type: 'digest'; ask: number; key: string; files: Files | null; layout: Layout }
    | { type: 'piece'; ask: number; bytes: Uint8Array }
    | { type: 'chunk-piece'; attempt: number; bytes: Uint8Array }
    | { type: 'chunk-held'; attempt: number; key: string; chunkNumber: number; files: Files | null; layout: Layout }
    | { type: 'chunk-failed'; attempt: number }
    | { type: 'end'; ask: number }
    | { type: 'forget'; key: string }

  const LIMIT = 256
  const buffer = Buffer.allocUnsafe(1024 * 1024)
  const entries = new Map<string, Entry>()
  const streams = new Map<number, import('node:crypto').Hash>()
  let clock = 0
  /**
   * Bytes of chunks kept in memory: chunks still streaming, and chunks that arrived before the one
   * the hash needs next. Past this, a chunk's bytes are dropped: it is read back from staging (local)
   * or its upload's digest reads the finished file (S3), so memory stays bounded whatever the order.
   */
  const KEPT_LIMIT = 48 * 1024 * 1024
  let keptBytes = 0
  const attempts = new Map<number, { pieces: Uint8Array[]; bytes: number; dropped: boolean }>()
  const size = (pieces: Uint8Array[]) => pieces.reduce((n, p) => n + p.length, 0)

  const dropEarly = (entry: Entry) => {
    for (const pieces of entry.early.values()) keptBytes -= size(pieces)
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
      entry = { hash: createHash('sha256'), next: 1, broken: false, fd: null, used: 0, early: new Map(), onDisk: new Set(), files: null, layout: null }
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
  /**
   * Extends the prefix with the chunks in memory and, with staging files, those read back: only the
   * ones this process stored without their bytes while chunks arrive (`anyMarked` false: a chunk
   * marked on disk may be this process's own whose bytes are still on their way here), any chunk
   * marked held on disk at the digest.
   */
  const extend = (entry: Entry, anyMarked: boolean) => {
    if (entry.broken) return
    let marks: Buffer | null = null
    try {
      for (;;) {
        const pieces = entry.early.get(entry.next)
        if (pieces) {
          for (const piece of pieces) entry.hash.update(piece)
          keptBytes -= size(pieces)
          entry.early.delete(entry.next)
          entry.next++
          continue
        }
        const { files, layout } = entry
        if (!files || !layout || entry.next > layout.chunkCount) return
        if (!anyMarked && !entry.onDisk.has(entry.next)) return
        marks ??= fs.readFileSync(files.received)
        if (marks[entry.next - 1] !== 1) return
        entry.onDisk.delete(entry.next)
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
  /**
   * Uploads whose digest was given: a chunk of theirs told held after it (another request of this
   * process that marked its chunk just before the completing one) was read from staging already.
   */
  const digested = new Set<string>()
  const chunkHeld = (message: { attempt: number; key: string; chunkNumber: number; files: Files | null; layout: Layout }) => {
    const attempt = attempts.get(message.attempt)
    attempts.delete(message.attempt)
    const kept = attempt && !attempt.dropped ? attempt : null
    if (digested.has(message.key)) {
      if (kept) keptBytes -= kept.bytes
      return
    }
    const entry = entryOf(message.key)
    if (message.files) {
      entry.files = message.files
      entry.layout = message.layout
    }
    // A chunk replaced behind the hash, or (without staging files) one whose bytes were not kept:
    // the digest reads the finished file.
    if (entry.broken || message.chunkNumber < entry.next || (!kept && !entry.files)) {
      if (kept) keptBytes -= kept.bytes
      breakPrefix(entry)
      return
    }
    const replaced = entry.early.get(message.chunkNumber)
    if (replaced) {
      keptBytes -= size(replaced)
      entry.early.delete(message.chunkNumber)
    }
    if (kept) {
      entry.early.set(message.chunkNumber, kept.pieces)
      entry.onDisk.delete(message.chunkNumber)
    } else {
      entry.onDisk.add(message.chunkNumber)
    }
    extend(entry, false)
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
        entry.files = message.files
        entry.layout = message.layout
        if (message.chunkNumber !== undefined && message.chunkNumber < entry.next) breakPrefix(entry)
        extend(entry, true)
        return
      }
      case 'chunk-piece': {
        let attempt = attempts.get(message.attempt)
        if (!attempt) attempts.set(message.attempt, attempt = { pieces: [], bytes: 0, dropped: false })
        if (attempt.dropped) return
        if (keptBytes + message.bytes.length > KEPT_LIMIT) {
          keptBytes -= attempt.bytes
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
        if (attempt && !attempt.dropped) keptBytes -= attempt.bytes
        return
      }
      case 'digest': {
        const entry = entryOf(message.key)
        try {
          if (message.files) {
            entry.files = message.files
            entry.layout = message.layout
          }
          extend(entry, true)
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
