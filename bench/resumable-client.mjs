// A Node client that speaks Resumable.js 1.1.0's wire protocol (testChunks: true): per chunk a GET
// test (204 = send it, 200 = already held), then a POST: in multipart mode (plain Resumable.js's
// default) a multipart/form-data body with every parameter in the query string and as fields before
// the part `file` (filename "blob"); in octet mode (what the edit components send) the raw chunk.
// Each of the requests in flight reads its chunk into one buffer of its own, reused for every chunk
// it sends (as a browser holds a chunk it hashes: the edit component reads the slice into an
// ArrayBuffer for crypto.subtle.digest), hashes it from there when digests are on and sends it from
// there: the file is read once, and memory stays at a few chunks.
import http from 'node:http'
import { open } from 'node:fs/promises'
import { createHash, randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'

/** Resumable.js 1.1.0 without forceChunkSize: floor, at least 1; the last chunk takes the rest. */
export function chunkLayout(size, chunkSize) {
  const count = Math.max(Math.floor(size / chunkSize), 1)
  const chunks = []
  for (let n = 1; n <= count; n++) {
    const start = (n - 1) * chunkSize
    const end = n === count ? size : Math.min(size, n * chunkSize)
    chunks.push({ n, start, end })
  }
  return chunks
}

/** Resumable.js's default identifier: size + '-' + relative path, [^0-9a-zA-Z_-] stripped. */
export function defaultIdentifier(size, relativePath) {
  return `${size}-${relativePath.replace(/[^0-9a-zA-Z_-]/gim, '')}`
}

/**
 * A small HTTP request helper on a given agent. `body` is either undefined, a Buffer, or
 * { head: Buffer, bytes: Buffer, tail: Buffer } (a multipart body around the chunk's bytes).
 */
export function request(agent, url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const started = performance.now()
    const req = http.request({
      agent, method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, headers,
    }, (res) => {
      const parts = []
      res.on('data', (b) => parts.push(b))
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8')
        resolve({ status: res.statusCode, headers: res.headers, text, ms: performance.now() - started })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    if (body === undefined) {
      req.end()
    } else if (Buffer.isBuffer(body)) {
      req.end(body)
    } else {
      req.write(body.head)
      if (body.bytes.length) req.write(body.bytes)
      req.end(body.tail)
    }
  })
}

function multipart(fields, fileField, filename, contentType) {
  const boundary = `----WebKitFormBoundary${randomBytes(12).toString('base64url')}`
  let head = ''
  for (const [name, value] of fields) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`
  }
  head += `--${boundary}\r\nContent-Disposition: form-data; name="${fileField}"; filename="${filename}"\r\n`
    + `Content-Type: ${contentType}\r\n\r\n`
  return { boundary, head: Buffer.from(head), tail: Buffer.from(`\r\n--${boundary}--\r\n`) }
}

/**
 * Uploads `file` (of `size` bytes) to `target` (absolute URL of the chunk route).
 * Returns timings per request and the completing answer. Non-2xx upload answers are retried
 * (Resumable.js retries everything outside permanentErrors [400, 404, 415, 500, 501]) up to
 * `maxRetries`, and every one is recorded in `problems`.
 */
export async function uploadResumable({
  target, file, size, chunkSize, filename = 'bench.bin', type = 'application/octet-stream',
  identifier, cookie, simultaneousUploads = 3, headers: extraHeaders = {}, maxRetries = 5, testChunks = true,
  method = 'multipart', chunkDigests = false,
}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: simultaneousUploads })
  const chunks = chunkLayout(size, chunkSize)
  const id = identifier ?? defaultIdentifier(size, filename)
  const baseHeaders = { 'X-Requested-With': 'XMLHttpRequest', ...extraHeaders }
  if (cookie) baseHeaders.Cookie = cookie
  const posts = []
  const tests = []
  const problems = []
  let complete = null
  let next = 0
  const started = performance.now()

  const paramsOf = (chunk) => [
    ['resumableChunkNumber', String(chunk.n)],
    ['resumableChunkSize', String(chunkSize)],
    ['resumableCurrentChunkSize', String(chunk.end - chunk.start)],
    ['resumableTotalSize', String(size)],
    ['resumableType', type],
    ['resumableIdentifier', id],
    ['resumableFilename', filename],
    ['resumableRelativePath', filename],
    ['resumableTotalChunks', String(chunks.length)],
  ]

  const sendChunk = async (chunk, buffer) => {
    const params = paramsOf(chunk)
    const bytes = await readInto(handle, buffer, chunk.start, chunk.end)
    // As the edit component does: the chunk's SHA-256 on the test GET and the POST.
    if (chunkDigests) params.push(['resumableChunkSha256', createHash('sha256').update(bytes).digest('hex')])
    const url = `${target}${target.includes('?') ? '&' : '?'}${new URLSearchParams(params)}`
    for (let attempt = 0; ; attempt++) {
      if (testChunks) {
        const t = await request(agent, url, { headers: baseHeaders })
        tests.push({ n: chunk.n, status: t.status, ms: t.ms })
        if (t.status === 200 || t.status === 201) {
          const answer = safeJson(t.text)
          if (answer?.complete && answer.reference) complete ??= { ...answer, status: 'complete', via: 'test' }
          return
        }
        if (t.status !== 204) problems.push({ n: chunk.n, kind: 'test', status: t.status, body: t.text.slice(0, 300) })
      }
      // method 'octet' (Resumable.js option): the raw chunk as the body, parameters in the URL only.
      const mp = method === 'octet'
        ? { head: Buffer.alloc(0), tail: Buffer.alloc(0), contentType: 'application/octet-stream' }
        : multipart(params, 'file', 'blob', 'application/octet-stream')
      const length = mp.head.length + (chunk.end - chunk.start) + mp.tail.length
      const sentAt = performance.now()
      const r = await request(agent, url, {
        method: 'POST',
        headers: {
          ...baseHeaders,
          'Content-Type': mp.contentType ?? `multipart/form-data; boundary=${mp.boundary}`,
          'Content-Length': String(length),
        },
        body: { head: mp.head, bytes, tail: mp.tail },
      })
      const answer = safeJson(r.text)
      posts.push({ n: chunk.n, status: r.status, ms: r.ms, sentAt: sentAt - started, answer, headers: r.headers })
      if (r.status === 200 || r.status === 201) {
        if (answer?.status === 'complete') complete ??= { ...answer, ms: r.ms, n: chunk.n, headers: r.headers }
        return
      }
      problems.push({ n: chunk.n, kind: 'upload', status: r.status, body: r.text.slice(0, 300), attempt })
      if ([400, 404, 415, 500, 501].includes(r.status) || attempt >= maxRetries) {
        throw new Error(`chunk ${chunk.n}: HTTP ${r.status} ${r.text.slice(0, 300)}`)
      }
      const retryAfter = Number(r.headers['retry-after'])
      if (retryAfter > 0) await new Promise((res) => setTimeout(res, Math.min(retryAfter, 5) * 1000))
    }
  }

  // The last chunk takes the rest of the file: up to twice the chunk size.
  const longest = Math.max(...chunks.map((c) => c.end - c.start))
  const handle = await open(file, 'r')
  const worker = async () => {
    // Reused: a chunk's request has ended (its answer arrived) before the next chunk is read into it.
    const buffer = Buffer.allocUnsafe(longest)
    while (next < chunks.length) {
      const chunk = chunks[next++]
      await sendChunk(chunk, buffer)
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(simultaneousUploads, chunks.length) }, worker))
  } finally {
    agent.destroy()
    await handle.close()
  }
  const ms = performance.now() - started
  return { ms, chunks: chunks.length, posts, tests, problems, complete, identifier: id }
}

/** Reads bytes `start`..`end` of the file into `buffer`; returns the view of them. */
async function readInto(handle, buffer, start, end) {
  const length = end - start
  let done = 0
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, start + done)
    if (bytesRead <= 0) throw new Error(`short read at ${start + done}`)
    done += bytesRead
  }
  return buffer.subarray(0, length)
}

function safeJson(text) {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}
