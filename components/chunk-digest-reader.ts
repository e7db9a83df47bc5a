/**
 * Reads a file's chunks in order through one stream and hashes each (`crypto.subtle`). In Chromium
 * every Blob read (`arrayBuffer()`, FileReader) opens the file anew in the browser process and
 * sets up a pipe to the page; a stream over the rest of the file pays that once per file, and its
 * bytes land in one reused buffer instead of a new one per chunk.
 *
 * `createChunkReader` names nothing outside its own body, so that its source text also runs as a
 * Web Worker's (chunk-digest-worker.ts): the components are bundled into one file, and a worker
 * made from a Blob URL cannot import anything.
 */

export interface ChunkReader {
  /**
   * The SHA-256 (lower-case hex) of the chunks [start, ends[0]), [ends[0], ends[1]), ... of `file`,
   * whose `key` tells the calls for one file apart. Calls run one after the other; one that starts
   * where the last call for the same file ended reads on from that file's stream, also when calls
   * for other files came in between (several files of a `multiple` property upload side by side).
   */
  digests(file: Blob, key: number, start: number, ends: number[]): Promise<string[]>
}

export function createChunkReader(): ChunkReader {
  interface Open {
    key: number
    at: number
    byob: ReadableStreamBYOBReader | null
    plain: ReadableStreamDefaultReader<Uint8Array> | null
    /** Bytes the plain reader gave beyond the last chunk. */
    rest: Uint8Array
  }
  /** The open stream of each file being read, by key; closed once read to its end or failed. */
  const open = new Map<number, Open>()
  let buffer = new ArrayBuffer(0)
  let queue: Promise<unknown> = Promise.resolve()
  const hex = (digest: ArrayBuffer): string => Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')

  function close(from: Open): void {
    if (open.get(from.key) === from) open.delete(from.key)
    ;(from.byob ?? from.plain)?.cancel().catch(() => undefined)
  }

  function openAt(file: Blob, key: number, start: number): Open {
    const stream = file.slice(start).stream()
    let byob: ReadableStreamBYOBReader | null = null
    try {
      byob = stream.getReader({ mode: 'byob' })
    } catch {
      // A stream of plain chunks (no BYOB): copied into the buffer below.
    }
    return { key, at: start, byob, plain: byob ? null : stream.getReader(), rest: new Uint8Array(0) }
  }

  /** Fills the first `length` bytes of the buffer from the stream; the buffer may be replaced. */
  async function fill(from: Open, length: number): Promise<Uint8Array<ArrayBuffer>> {
    if (buffer.byteLength < length) buffer = new ArrayBuffer(length)
    let filled = 0
    while (filled < length) {
      if (from.byob) {
        const { value, done } = await from.byob.read(new Uint8Array(buffer, filled, length - filled))
        if (value) buffer = value.buffer as ArrayBuffer
        if (done || !value) throw new Error('the file ended before its last chunk')
        filled += value.byteLength
      } else {
        if (!from.rest.byteLength) {
          const { value, done } = await from.plain!.read()
          if (done || !value) throw new Error('the file ended before its last chunk')
          from.rest = value
        }
        const take = Math.min(from.rest.byteLength, length - filled)
        new Uint8Array(buffer, filled, take).set(from.rest.subarray(0, take))
        from.rest = from.rest.subarray(take)
        filled += take
      }
    }
    return new Uint8Array(buffer, 0, length)
  }

  async function run(file: Blob, key: number, start: number, ends: number[]): Promise<string[]> {
    let from = open.get(key)
    if (!from || from.at !== start) {
      if (from) close(from)
      from = openAt(file, key, start)
      open.set(key, from)
    }
    const out: string[] = []
    try {
      for (const end of ends) {
        const bytes = await fill(from, end - from.at)
        // digest() takes its own copy of the bytes when called: the buffer is free again at once.
        out.push(hex(await crypto.subtle.digest('SHA-256', bytes)))
        from.at = end
      }
    } catch (error) {
      close(from)
      throw error
    }
    if (from.at >= file.size) close(from)
    return out
  }

  return {
    digests(file, key, start, ends) {
      const result = queue.then(() => run(file, key, start, ends))
      queue = result.then(() => undefined, () => undefined)
      return result
    },
  }
}
