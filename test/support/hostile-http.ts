import type { Server } from 'node:http'
import { connect } from 'node:net'
import request from 'supertest'

/** What every hostile case looks at, whichever client sent the request. */
export interface Reply {
  status: number
  headers: Record<string, string>
  text: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- whatever JSON the server sent; the tests assert its shape
  body: any
}

export function fromSupertest(res: request.Response): Reply {
  return { status: res.status, headers: res.headers as Record<string, string>, text: res.text, body: res.body }
}

/** Logs in through the AdminJS form and returns the session cookie (`adminjs=...`). */
export async function loginCookie(app: Parameters<typeof request>[0], email: string, password = 'password'): Promise<string> {
  const res = await request(app).post('/admin/login').type('form').send({ email, password })
  if (res.status !== 302) throw new Error(`login as ${email} failed: ${res.status}`)
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? [])
  const cookie = cookies.map((c) => c.split(';')[0]).find((c) => c.startsWith('adminjs='))
  if (!cookie) throw new Error(`login as ${email} set no adminjs cookie`)
  return cookie
}

export interface Part {
  name: string
  /** Present for file parts. */
  filename?: string
  value: string | Buffer
  /** Extra header lines for the part, e.g. 'Content-Type: text/plain'. */
  headers?: string[]
}

/** A multipart/form-data body built byte by byte, so it can be made as wrong as a case needs. */
export function multipartBody(parts: Part[], boundary: string, options: { close?: boolean } = {}): Buffer {
  const pieces: Buffer[] = []
  for (const part of parts) {
    const disposition = part.filename === undefined
      ? `Content-Disposition: form-data; name="${part.name}"`
      : `Content-Disposition: form-data; name="${part.name}"; filename="${part.filename}"`
    const headers = [disposition, ...(part.headers ?? (part.filename !== undefined ? ['Content-Type: application/octet-stream'] : []))]
    pieces.push(Buffer.from(`--${boundary}\r\n${headers.join('\r\n')}\r\n\r\n`))
    pieces.push(Buffer.isBuffer(part.value) ? part.value : Buffer.from(part.value))
    pieces.push(Buffer.from('\r\n'))
  }
  if (options.close !== false) pieces.push(Buffer.from(`--${boundary}--\r\n`))
  return Buffer.concat(pieces)
}

/**
 * Sends exactly the given request head and body over a fresh TCP connection and reads one response
 * (with Content-Length or until the server closes). The head may lie (Content-Length, missing
 * headers): nothing is corrected. The socket is closed once the response is complete.
 */
export function rawRequest(
  server: Server,
  head: { method: string; path: string; headers: Record<string, string | number> },
  body: Buffer = Buffer.alloc(0),
  /** Sent after `body` once `between` resolves (unless the answer came first). */
  second?: { between: () => Promise<void>; body: Buffer },
): Promise<Reply> {
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('server is not listening on TCP')
  return new Promise((resolve, reject) => {
    const socket = connect(address.port, '127.0.0.1')
    let received = Buffer.alloc(0)
    let done = false
    const tryParse = (final: boolean) => {
      if (done) return
      const end = received.indexOf('\r\n\r\n')
      if (end < 0) {
        if (final) {
          done = true
          reject(new Error(`connection closed without a response (${received.length} bytes)`))
        }
        return
      }
      const lines = received.subarray(0, end).toString('latin1').split('\r\n')
      const status = Number(lines[0].split(' ')[1])
      const headers: Record<string, string> = {}
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':')
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim()
      }
      const rest = received.subarray(end + 4)
      const length = headers['content-length'] !== undefined ? Number(headers['content-length']) : null
      if (length !== null && rest.length < length && !final) return
      if (length === null && headers['transfer-encoding'] && !final) return
      done = true
      let payload: Buffer = length !== null ? rest.subarray(0, length) : rest
      if (length === null && /chunked/i.test(headers['transfer-encoding'] ?? '')) payload = dechunk(payload)
      const text = payload.toString('utf8')
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        parsed = {}
      }
      socket.destroy()
      resolve({ status, headers, text, body: parsed })
    }
    socket.on('data', (piece) => {
      received = Buffer.concat([received, piece])
      tryParse(false)
    })
    socket.on('end', () => tryParse(true))
    socket.on('close', () => tryParse(true))
    socket.on('error', (error) => {
      // A reset after the response arrived is fine (the server closes refused uploads).
      if (!done) {
        if (received.length) tryParse(true)
        else {
          done = true
          reject(error)
        }
      }
    })
    const lines = [`${head.method} ${head.path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close']
    for (const [name, value] of Object.entries(head.headers)) lines.push(`${name}: ${value}`)
    socket.write(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]))
    if (second) {
      second.between().then(() => {
        if (!done && !socket.destroyed) socket.write(second.body)
      }, (error) => {
        if (!done) {
          done = true
          socket.destroy()
          reject(error)
        }
      })
    }
  })
}

function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = []
  let rest = data
  for (;;) {
    const i = rest.indexOf('\r\n')
    if (i < 0) break
    const size = parseInt(rest.subarray(0, i).toString('latin1'), 16)
    if (!size) break
    out.push(rest.subarray(i + 2, i + 2 + size))
    rest = rest.subarray(i + 2 + size + 2)
  }
  return Buffer.concat(out)
}

/** One complete response at the start of `data`, or null while it is incomplete. */
export function parseResponse(data: Buffer, final = false): (Reply & { rest: Buffer }) | null {
  const end = data.indexOf('\r\n\r\n')
  if (end < 0) return null
  const lines = data.subarray(0, end).toString('latin1').split('\r\n')
  const status = Number(lines[0].split(' ')[1])
  const headers: Record<string, string> = {}
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':')
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim()
  }
  const after = data.subarray(end + 4)
  if (status >= 100 && status < 200) return { status, headers, text: '', body: {}, rest: after }
  const length = headers['content-length'] !== undefined ? Number(headers['content-length']) : null
  if (length !== null && after.length < length) return null
  if (length === null && !final) return null
  const payload = length !== null ? after.subarray(0, length) : after
  const text = payload.toString('utf8')
  let body: unknown = {}
  try {
    body = JSON.parse(text)
  } catch {
    body = {}
  }
  return { status, headers, text, body, rest: after.subarray(payload.length) }
}

function headLines(head: { method: string; path: string; headers: Record<string, string | number> }): Buffer {
  const lines = [`${head.method} ${head.path} HTTP/1.1`, 'Host: 127.0.0.1']
  for (const [name, value] of Object.entries(head.headers)) lines.push(`${name}: ${value}`)
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')
}

export interface NaiveOutcome {
  /** The answer, or null when the connection ended without one (a reset lost it). */
  reply: Reply | null
  /** Every body byte was handed to the kernel before the first byte of the answer was read. */
  sentAll: boolean
  /** The socket error, if any (ECONNRESET, EPIPE). */
  error?: string
}

/**
 * A naive client, as many HTTP libraries behave: it writes the whole request, head and body,
 * before it reads a byte of the answer (its socket does not read meanwhile, so an answer that
 * arrives early waits in the kernel), then half-closes and reads. A server that closes the
 * connection on unread bytes makes its kernel reset it, and the answer waiting here is lost.
 */
export function sendAllThenRead(
  server: Server,
  head: { method: string; path: string; headers: Record<string, string | number> },
  body: { size: number; piece?: Buffer; prefix?: Buffer },
): Promise<NaiveOutcome> {
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('server is not listening on TCP')
  return new Promise((resolve) => {
    const socket = connect(address.port, '127.0.0.1')
    socket.pause()
    let received: Buffer = Buffer.alloc(0)
    let sentAll = false
    let error: string | undefined
    let done = false
    const finish = () => {
      if (done) return
      done = true
      const parsed = parseResponse(received, true)
      socket.destroy()
      resolve({ reply: parsed ? { status: parsed.status, headers: parsed.headers, text: parsed.text, body: parsed.body } : null, sentAll, error })
    }
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error ??= e.code
      finish()
    })
    socket.on('data', (piece) => {
      received = Buffer.concat([received, piece])
    })
    socket.on('end', finish)
    socket.on('close', finish)
    socket.once('connect', async () => {
      const piece = body.piece ?? Buffer.alloc(256 * 1024, 0x61)
      const prefix = body.prefix ?? Buffer.alloc(0)
      const write = (data: Buffer) => new Promise<void>((ok, fail) => {
        if (socket.write(data, (e) => (e ? fail(e) : undefined))) ok()
        else {
          socket.once('drain', () => ok())
          socket.once('close', () => fail(new Error('closed')))
        }
      })
      try {
        await write(headLines(head))
        await write(prefix)
        let left = body.size - prefix.length
        while (left > 0) {
          const n = Math.min(left, piece.length)
          await write(n === piece.length ? piece : piece.subarray(0, n))
          left -= n
        }
        sentAll = true
        socket.end()
      } catch {
        // the connection went away while sending: what was received is read below
      }
      socket.resume()
    })
  })
}

/**
 * Sends the head with `Expect: 100-continue` and waits for the first answer head. On `100 Continue`
 * it sends `body` and reads the final answer. Returns every status seen, in order.
 */
export function expectContinue(
  server: Server,
  head: { method: string; path: string; headers: Record<string, string | number> },
  body: Buffer,
): Promise<{ statuses: number[]; reply: Reply }> {
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('server is not listening on TCP')
  return new Promise((resolve, reject) => {
    const socket = connect(address.port, '127.0.0.1')
    const statuses: number[] = []
    let received: Buffer = Buffer.alloc(0)
    let done = false
    const take = (final: boolean) => {
      for (;;) {
        const parsed = parseResponse(received, final)
        if (!parsed) return
        statuses.push(parsed.status)
        received = parsed.rest
        if (parsed.status === 100) {
          socket.write(body)
          continue
        }
        done = true
        socket.destroy()
        resolve({ statuses, reply: { status: parsed.status, headers: parsed.headers, text: parsed.text, body: parsed.body } })
        return
      }
    }
    socket.on('data', (piece) => {
      received = Buffer.concat([received, piece])
      take(false)
    })
    socket.on('end', () => take(true))
    socket.on('close', () => {
      if (!done) reject(new Error(`connection closed after statuses ${statuses.join(',') || 'none'}`))
    })
    socket.on('error', (e) => {
      if (!done) reject(e)
    })
    socket.write(headLines({ ...head, headers: { ...head.headers, Expect: '100-continue' } }))
  })
}

/**
 * Sends the head and then `pieces` one by one, `gapMs` apart (a slow link, or a client trickling on
 * purpose), and reads one answer. Rejects when the connection ends without one.
 */
export function trickleRequest(
  server: Server,
  head: { method: string; path: string; headers: Record<string, string | number> },
  pieces: Buffer[],
  gapMs: number,
): Promise<Reply> {
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('server is not listening on TCP')
  return new Promise((resolve, reject) => {
    const socket = connect(address.port, '127.0.0.1')
    let received: Buffer = Buffer.alloc(0)
    let done = false
    let sent = 0
    const take = (final: boolean) => {
      if (done) return
      const parsed = parseResponse(received, final)
      if (parsed) {
        done = true
        socket.destroy()
        resolve({ status: parsed.status, headers: parsed.headers, text: parsed.text, body: parsed.body })
      } else if (final) {
        done = true
        reject(new Error(`connection closed without a response after ${sent} of ${pieces.length} pieces`))
      }
    }
    socket.on('data', (piece) => {
      received = Buffer.concat([received, piece])
      take(false)
    })
    socket.on('end', () => take(true))
    socket.on('close', () => take(true))
    socket.on('error', () => take(true))
    socket.write(headLines(head))
    const next = () => {
      if (done || socket.destroyed || sent >= pieces.length) return
      socket.write(pieces[sent++]!)
      setTimeout(next, gapMs)
    }
    next()
  })
}
