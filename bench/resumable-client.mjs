// A Node client that speaks Resumable.js 1.1.0's wire protocol (multipart mode, testChunks: true):
// per chunk a GET test (204 = send it, 200 = already held), then a multipart/form-data POST with
// every parameter in the query string and as fields before the part `file` (filename "blob").
// The chunk is streamed from the file (createReadStream start/end), so memory stays flat.
import http from 'node:http'
import { createReadStream } from 'node:fs'
import { once } from 'node:events'
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
 * { head: Buffer, file, start, end, tail: Buffer } (streamed).
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
      ;(async () => {
        req.write(body.head)
        if (body.end > body.start) {
          const rs = createReadStream(body.file, { start: body.start, end: body.end - 1 })
          for await (const piece of rs) {
            if (!req.write(piece)) await once(req, 'drain')
          }
        }
        req.end(body.tail)
      })().catch((error) => req.destroy(error))
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

  const sendChunk = async (chunk) => {
    const params = paramsOf(chunk)
    // As the edit component does: the chunk's SHA-256 on the test GET and the POST.
    if (chunkDigests) params.push(['resumableChunkSha256', await digestOf(file, chunk.start, chunk.end)])
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
        body: { head: mp.head, tail: mp.tail, file, start: chunk.start, end: chunk.end },
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

  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++]
      await sendChunk(chunk)
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(simultaneousUploads, chunks.length) }, worker))
  } finally {
    agent.destroy()
  }
  const ms = performance.now() - started
  return { ms, chunks: chunks.length, posts, tests, problems, complete, identifier: id }
}

async function digestOf(file, start, end) {
  const hash = createHash('sha256')
  for await (const piece of createReadStream(file, { start, end: end - 1 })) hash.update(piece)
  return hash.digest('hex')
}

function safeJson(text) {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}
