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
