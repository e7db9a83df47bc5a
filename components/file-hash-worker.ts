/**
 * The whole file's SHA-256 of a direct upload, hashed on a Web Worker so that the page's main thread
 * (Resumable.js, React, the progress) never waits for it. The page feeds the worker the file in
 * order: the bytes it already read for a part's digest (transferred, not copied), or, where it holds
 * none, a slice of the file that the worker reads itself. The worker is made from a Blob URL
 * (blob-worker.ts): `createSha256` and `workerMain` name nothing outside their own bodies.
 */
import { blobWorkerStarter } from './blob-worker.js'
import { createSha256, type Sha256Core } from './sha256-stream.js'

/** What the page posts, in file order. */
export type HashFeed = { bytes: ArrayBuffer } | { blob: Blob } | { end: true }
/**
 * What the worker answers: the bytes of each `bytes` feed once hashed (the page bounds what is on
 * its way), then once the digest, or why it could not read the file.
 */
export type HashAnswer = { hashed: number } | { hex: string } | { error: string }

interface WorkerScope {
  onmessage: ((event: { data: HashFeed }) => void) | null
  postMessage(answer: HashAnswer): void
  FileReaderSync: new () => { readAsArrayBuffer(blob: Blob): ArrayBuffer }
}

/** The worker's body; runs in the worker with `createSha256` passed in (see the file comment). */
function workerMain(create: () => Sha256Core): void {
  const scope = globalThis as unknown as WorkerScope
  const hash = create()
  let failed = false
  scope.onmessage = (event) => {
    if (failed) return
    const feed = event.data
    try {
      // FileReaderSync reads synchronously, so every feed is hashed in the order it arrived.
      if ('bytes' in feed) {
        hash.update(new Uint8Array(feed.bytes))
        scope.postMessage({ hashed: feed.bytes.byteLength })
      }
      else if ('blob' in feed) hash.update(new Uint8Array(new scope.FileReaderSync().readAsArrayBuffer(feed.blob)))
      else scope.postMessage({ hex: hash.hex() })
    } catch (error) {
      failed = true
      scope.postMessage({ error: String((error as { message?: unknown } | null)?.message ?? error) })
    }
  }
}

/** A new file-hash worker, or null where the page cannot start one (no Worker, no Blob URLs, CSP). */
export const startHashWorker = blobWorkerStarter(() => `(${workerMain.toString()})(${createSha256.toString()})`)
