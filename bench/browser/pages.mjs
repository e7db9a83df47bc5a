// What the browser rows run inside the page: the instrumentation every page gets, the watch for the
// edit component's end state, and the bare Resumable.js page.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Runs in every page before its own scripts. Times are the page's performance.now(): from the
 * file input's change event (the pick) on. With `profile`, every Blob.arrayBuffer() and
 * crypto.subtle.digest() call in the page is timed too: the edit component's chunk hashing uses
 * those where it hashes on the page (no worker); on its worker it makes none here.
 * `noDigest` takes the page's crypto.subtle.digest away, so the edit component sends its chunks
 * without digests (as on a page without crypto.subtle): what the component costs without hashing.
 */
export function instrument({ profile, noDigest }) {
  if (noDigest && globalThis.SubtleCrypto) SubtleCrypto.prototype.digest = undefined
  performance.setResourceTimingBufferSize(1_000_000)
  const bench = { pickedAt: null, reads: [], digests: [] }
  window.__bench = bench
  document.addEventListener('change', (event) => {
    const input = event.target
    if (bench.pickedAt === null && input instanceof HTMLInputElement && input.type === 'file') bench.pickedAt = performance.now()
  }, true)
  if (!profile) return
  const timed = (proto, name, into) => {
    const original = proto[name]
    proto[name] = function (...args) {
      const started = performance.now()
      const result = original.apply(this, args)
      result.then(() => into.push([started, performance.now()]), () => undefined)
      return result
    }
  }
  timed(Blob.prototype, 'arrayBuffer', bench.reads)
  if (globalThis.crypto?.subtle) timed(SubtleCrypto.prototype, 'digest', bench.digests)
}

/** In the edit page: a promise for the status's first end state (data-state), with its time. */
export function watchComponent() {
  const ends = ['complete', 'failed', 'expired', 'auth-required', 'refused', 'unconfirmed']
  window.__bench.done = new Promise((resolve) => {
    const check = () => {
      const state = document.querySelector('[data-testid=resumable-status]')?.getAttribute('data-state')
      if (!ends.includes(state)) return
      observer.disconnect()
      resolve({ state, at: performance.now(), message: document.querySelector('[data-testid=resumable-status]')?.textContent })
    }
    const observer = new MutationObserver(check)
    observer.observe(document.body, { attributes: true, attributeFilter: ['data-state'], subtree: true })
  })
}

/** The bare page: a file input and Resumable.js 1.1.0 from node_modules, nothing else. */
export function barePage(projectRoot) {
  const resumable = readFileSync(join(projectRoot, 'node_modules', 'resumablejs', 'resumable.js'), 'utf8')
  return `<!doctype html><html><head><meta charset="utf-8"><title>bare Resumable.js</title></head>
<body><input type="file" id="pick"><script>${resumable.replace(/<\/script/gi, '<\\/script')}</script></body></html>`
}

/**
 * In the bare page: Resumable.js with the edit component's options (JSON part: target, chunk size,
 * simultaneousUploads, test GETs, headers, retries) and its identifier function, without digests.
 * Done when Resumable.js reports the file's success and the reference is known: from the last
 * chunk's answer, or (as the component does when the last answer lacks it) chunk 1's test GET.
 */
export function startBare({ options, identifierSource }) {
  const bench = window.__bench
  const r = new window.Resumable({ ...options, generateUniqueIdentifier: (0, eval)(`(${identifierSource})`) })
  r.assignBrowse(document.getElementById('pick'))
  r.on('fileAdded', () => r.upload())
  bench.done = new Promise((resolve) => {
    r.on('fileError', (f, message) => resolve({ state: 'failed', at: performance.now(), message }))
    r.on('fileSuccess', async (f, message) => {
      const referenceOf = (text) => { try { return JSON.parse(text).reference } catch { return undefined } }
      let reference = referenceOf(message)
      if (!reference) {
        const first = f.chunks[0]
        const params = new URLSearchParams({
          resumableChunkNumber: '1', resumableChunkSize: String(options.chunkSize),
          resumableCurrentChunkSize: String(first.endByte - first.startByte), resumableTotalSize: String(f.size),
          resumableType: f.file.type || '', resumableIdentifier: f.uniqueIdentifier, resumableFilename: f.fileName,
          resumableRelativePath: f.relativePath, resumableTotalChunks: String(f.chunks.length),
        })
        const answer = await fetch(`${options.target}?${params}`, { headers: options.headers, credentials: 'same-origin' })
        reference = referenceOf(await answer.text())
      }
      resolve({ state: reference ? 'complete' : 'unconfirmed', at: performance.now(), reference })
    })
  })
}

/**
 * After the run: the pick, every XHR and fetch the page made (Resource Timing: URL, start, end) and,
 * with profiling, the hashing calls (start, end).
 */
export function collect() {
  const bench = window.__bench
  return {
    pickedAt: bench.pickedAt,
    requests: performance.getEntriesByType('resource')
      .filter((e) => e.initiatorType === 'xmlhttprequest' || e.initiatorType === 'fetch')
      .map((e) => [e.name, e.startTime, e.responseEnd]),
    reads: bench.reads,
    digests: bench.digests,
  }
}
