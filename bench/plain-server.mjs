// A careful plain Node peer for the same Resumable.js protocol: node:http + busboy, each chunk in
// its own file (written to a temp name, renamed once its byte count matched), concatenated into the
// final file by the request that completes the set. Env: PLAIN_DIR, CHUNK_SIZE, PORT, HOST.
// The completing POST answers {"status":"complete","reference":id,"path":...} with X-Concat-Ms.
import http from 'node:http'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises'
import { once } from 'node:events'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import busboy from 'busboy'

const root = process.env.PLAIN_DIR
const chunkSize = Number(process.env.CHUNK_SIZE)
if (!root || !chunkSize) throw new Error('PLAIN_DIR and CHUNK_SIZE are required')
const partsRoot = join(root, 'parts')
const filesRoot = join(root, 'files')
await mkdir(partsRoot, { recursive: true })
await mkdir(filesRoot, { recursive: true })

/** id -> { received: Set<number>, finishing: Promise|null } */
const uploads = new Map()

class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status }
}

function parse(params) {
  const int = (name) => {
    const v = params[name]
    if (typeof v !== 'string' || !/^\d{1,16}$/.test(v)) throw new HttpError(400, `bad ${name}`)
    return Number(v)
  }
  const n = int('resumableChunkNumber')
  const size = int('resumableChunkSize')
  const total = int('resumableTotalSize')
  const current = int('resumableCurrentChunkSize')
  const identifier = params.resumableIdentifier
  if (typeof identifier !== 'string' || !identifier || identifier.length > 256) throw new HttpError(400, 'bad identifier')
  if (size !== chunkSize) throw new HttpError(400, 'chunk size differs from the server\'s')
  if (total < 1) throw new HttpError(400, 'empty file')
  const count = Math.max(Math.floor(total / size), 1)
  if (n < 1 || n > count) throw new HttpError(400, 'chunk number out of range')
  const expected = n < count ? size : total - (count - 1) * size
  if (current !== expected) throw new HttpError(400, 'chunk length mismatch')
  const id = createHash('sha256').update(identifier).digest('hex').slice(0, 40)
  return { n, count, total, expected, id, dir: join(partsRoot, id) }
}

async function state(p) {
  let s = uploads.get(p.id)
  if (!s) {
    s = { received: new Set(), finishing: null, done: false }
    const names = await readdir(p.dir).catch(() => [])
    for (const name of names) if (/^\d+$/.test(name)) s.received.add(Number(name))
    uploads.set(p.id, s)
  }
  return s
}

async function concatenate(p) {
  const started = performance.now()
  const temp = join(filesRoot, `.${p.id}-${randomBytes(6).toString('hex')}`)
  const out = createWriteStream(temp)
  try {
    for (let n = 1; n <= p.count; n++) {
      for await (const piece of createReadStream(join(p.dir, String(n)), { highWaterMark: 1024 * 1024 })) {
        if (!out.write(piece)) await once(out, 'drain')
      }
    }
    out.end()
    await once(out, 'finish')
    await once(out, 'close').catch(() => undefined)
    const final = join(filesRoot, p.id)
    await rename(temp, final)
    await rm(p.dir, { recursive: true, force: true })
    return { ms: performance.now() - started, path: final }
  } catch (error) {
    out.destroy()
    await unlink(temp).catch(() => undefined)
    throw error
  }
}

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

async function onGet(req, res, query) {
  const p = parse(query)
  const s = await state(p)
  if (s.done) return send(res, 200, { status: 'held', complete: true, reference: p.id })
  if (!s.received.has(p.n)) return send(res, 204)
  const info = await stat(join(p.dir, String(p.n))).catch(() => null)
  send(res, info?.size === p.expected ? 200 : 204, info?.size === p.expected ? { status: 'held' } : undefined)
}

function onPost(req, res, query) {
  return new Promise((resolve, reject) => {
    const fields = { ...query }
    let handled = false
    let work = null
    const bb = busboy({ headers: req.headers, limits: { files: 1, fields: 32, fieldSize: 8192 } })
    bb.on('field', (name, value) => { fields[name] = value })
    bb.on('file', (name, stream) => {
      if (name !== 'file' || handled) { stream.resume(); return }
      handled = true
      work = (async () => {
        const p = parse(fields)
        await mkdir(p.dir, { recursive: true })
        const s = await state(p)
        if (s.done || s.received.has(p.n)) { stream.resume(); await once(stream, 'end'); return { p, s, skipped: true } }
        const temp = join(p.dir, `${p.n}.tmp-${randomBytes(6).toString('hex')}`)
        const out = createWriteStream(temp)
        let bytes = 0
        try {
          for await (const piece of stream) {
            bytes += piece.length
            if (bytes > p.expected) throw new HttpError(400, 'chunk longer than declared')
            if (!out.write(piece)) await once(out, 'drain')
          }
          out.end()
          await once(out, 'finish')
          if (bytes !== p.expected) throw new HttpError(400, 'chunk shorter than declared')
          await rename(temp, join(p.dir, String(p.n)))
        } catch (error) {
          out.destroy()
          await unlink(temp).catch(() => undefined)
          throw error
        }
        s.received.add(p.n)
        return { p, s }
      })()
    })
    bb.on('close', async () => {
      try {
        if (!work) throw new HttpError(400, 'no part "file"')
        const { p, s } = await work
        if (s.done) return send(res, 200, { status: 'complete', reference: p.id })
        if (s.received.size === p.count && !s.finishing) {
          s.finishing = concatenate(p)
          const { ms, path } = await s.finishing
          s.done = true
          return send(res, 200, { status: 'complete', reference: p.id, path }, { 'X-Concat-Ms': ms.toFixed(1) })
        }
        send(res, 200, { status: 'partial' })
      } catch (error) { reject(error) }
      resolve()
    })
    bb.on('error', (error) => reject(new HttpError(400, error.message)))
    req.pipe(bb)
  })
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://x')
    const query = Object.fromEntries(url.searchParams)
    if (req.method === 'GET') await onGet(req, res, query)
    else if (req.method === 'POST') await onPost(req, res, query)
    else send(res, 405, { error: 'method' })
  } catch (error) {
    if (!res.headersSent) {
      if (!req.complete) res.setHeader('Connection', 'close')
      send(res, error.status || 500, { error: error.message })
    }
    req.resume()
  }
})
server.requestTimeout = 0
server.keepAliveTimeout = 65_000
server.listen(Number(process.env.PORT || 0), process.env.HOST || '127.0.0.1', () => {
  console.log(`LISTENING ${server.address().port}`)
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0))
