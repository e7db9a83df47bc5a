import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/**
 * The temp files one request created. `removeAll()` deletes every one of them that is still where
 * we put it (ENOENT is fine: the action moved it away). A file whose write stream is still open is
 * destroyed first and unlinked once its descriptor is closed, so a file cannot reappear after the
 * cleanup because a pending `open()` completed late.
 */
export class TempFileSet {
  private readonly entries = new Map<string, fs.WriteStream>()
  private removed = false

  constructor(private readonly directory: string) {}

  /** Opens a new, exclusively created temp file with a random name (formidable's `upload_<hex>`). */
  create(): { path: string; stream: fs.WriteStream } {
    const filePath = path.join(this.directory, `upload_${randomBytes(16).toString('hex')}`)
    const stream = fs.createWriteStream(filePath, { flags: 'wx', mode: 0o600 })
    this.entries.set(filePath, stream)
    if (this.removed) removeOne(filePath, stream)
    return { path: filePath, stream }
  }

  get size(): number {
    return this.entries.size
  }

  /** Idempotent; later calls only catch files created after the previous one. */
  removeAll(): void {
    this.removed = true
    for (const [filePath, stream] of this.entries) {
      this.entries.delete(filePath)
      removeOne(filePath, stream)
    }
  }
}

function removeOne(filePath: string, stream: fs.WriteStream): void {
  const unlink = (): void => {
    fs.unlink(filePath, (err) => {
      if (err && err.code !== 'ENOENT') {
        // Nothing sensible to do with it: the request is over. Do not throw from a callback.
      }
    })
  }
  if (stream.closed) {
    unlink()
    return
  }
  stream.once('close', unlink)
  stream.once('error', () => {})
  if (!stream.destroyed) stream.destroy()
}
