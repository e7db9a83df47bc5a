// Uploads a file with tus-js-client (as the tus peers use it) and times every PATCH.
import { createReadStream } from 'node:fs'
import { performance } from 'node:perf_hooks'
import * as tus from 'tus-js-client'

/**
 * Returns the upload's URL, its total time, every PATCH's time and the completing PATCH's (the one
 * that took the offset to `size`; with parallel uploads, the last one answered).
 */
export async function uploadTus({ endpoint, file, size, chunkSize, parallelUploads = 1 }) {
  const patchStart = new WeakMap()
  const patches = []
  let lastPatch = null
  const started = performance.now()
  const url = await new Promise((resolve, reject) => {
    const upload = new tus.Upload(createReadStream(file), {
      endpoint,
      chunkSize,
      parallelUploads,
      retryDelays: null,
      metadata: { filename: 'bench.bin', filetype: 'application/octet-stream' },
      storeFingerprintForResuming: false,
      onBeforeRequest(req) {
        if (req.getMethod() === 'PATCH') patchStart.set(req, performance.now())
      },
      onAfterResponse(req, res) {
        if (req.getMethod() !== 'PATCH') return
        const ms = performance.now() - patchStart.get(req)
        patches.push(ms)
        if (Number(res.getHeader('Upload-Offset')) === size || parallelUploads === 1) lastPatch = { ms, status: res.getStatus() }
      },
      onError: reject,
      onSuccess: () => resolve(upload.url),
    })
    upload.start()
  })
  return { url, ms: performance.now() - started, patches, lastPatch }
}
