/**
 * What the server holds of a file apart from what is on its way, read from Resumable.js's chunks.
 * A reload keeps only whole chunks the server confirmed; the bar says so (UploadProgress), and the
 * speed is measured on bytes this page really sent, so chunks the server already had (found by
 * the test requests after a reload) never count as a burst of speed.
 */
export interface ChunkView {
  startByte: number
  endByte: number
  /** Bytes of this chunk's POST sent so far; stays 0 for a chunk the server had (test GET only). */
  loaded?: number
  status(): 'pending' | 'uploading' | 'success' | 'error'
}

/** Bytes in chunks the server confirmed: what survives a reload. */
export function bytesHeld(chunks: readonly ChunkView[]): number {
  let held = 0
  for (const c of chunks) if (c.status() === 'success') held += c.endByte - c.startByte
  return held
}

/** Bytes this page has put on the wire (confirmed or not), for the speed. */
export function bytesSent(chunks: readonly ChunkView[]): number {
  let sent = 0
  for (const c of chunks) {
    const size = c.endByte - c.startByte
    const loaded = Math.min(size, Math.max(0, c.loaded ?? 0))
    const status = c.status()
    if (status === 'success') sent += loaded > 0 ? size : 0
    else if (status === 'uploading') sent += loaded
  }
  return sent
}
