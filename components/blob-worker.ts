/**
 * The components are bundled into one file, so a Web Worker cannot be loaded from a script of its
 * own: it is made from a Blob URL of self-contained source (functions that name nothing outside
 * their own bodies, given as text). Where the page cannot start one (no Worker, no Blob URLs, a
 * Content-Security-Policy without `blob:` for workers) the starter answers null and the caller does
 * the work on the page.
 */

/** A starter of workers running `source()`; the Blob URL is made once, on the first start. */
export function blobWorkerStarter(source: () => string): () => Worker | null {
  let url: string | null | undefined
  return () => {
    if (typeof Worker !== 'function' || typeof URL.createObjectURL !== 'function') return null
    if (url === undefined) {
      try {
        url = URL.createObjectURL(new Blob([source()], { type: 'text/javascript' }))
      } catch {
        url = null
      }
    }
    if (!url) return null
    try {
      return new Worker(url)
    } catch {
      // Chromium refuses here a worker that the page's CSP does not allow (or fires `error` later).
      return null
    }
  }
}
