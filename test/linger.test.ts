/**
 * The bounds of the lingering close (src/guard/linger.ts) on a real HTTP server and raw TCP
 * clients: how long a refused client may go on sending (idle, total) and how much is read from it
 * (bytes). Whatever bound ends the connection, a client still sending has its answer.
 */
import { afterEach, describe, expect, test } from '@jest/globals'
import http from 'node:http'
import net from 'node:net'
import { once } from 'node:events'
import { closeAfterAnswer, type LingerLimits } from '../src/guard/linger.js'

const KiB = 1024
const MiB = 1024 * KiB
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
/** Waits for `promise`, or at most `ms` (a generous bound for a busy machine, not a measurement). */
async function atMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([promise, new Promise((r) => { timer = setTimeout(r, ms) })])
  clearTimeout(timer)
}
/** The error that ended a client socket, recorded from the start (it may come while paused). */
const failures = new WeakMap<net.Socket, string>()

interface Served {
  port: number
  /** Resolves when the server's side of the (first) connection is closed. */
  closed: Promise<void>
  isClosed(): boolean
  server: http.Server
}

const servers: http.Server[] = []
const clients: net.Socket[] = []

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy()
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise((r) => s.close(r))
  }
})

/** A server that refuses every request with 401 before reading its body, lingering with `limits`. */
async function refusingServer(limits: Partial<LingerLimits>): Promise<Served> {
  const server = http.createServer((req, res) => {
    closeAfterAnswer(req, res, limits)
    res.statusCode = 401
    res.setHeader('Content-Length', 3)
    res.end('no\n')
  })
  servers.push(server)
  let closed = false
  const closedPromise = new Promise<void>((resolve) => {
    server.once('connection', (socket: net.Socket) => socket.once('close', () => {
      closed = true
      resolve()
    }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { port: (server.address() as net.AddressInfo).port, closed: closedPromise, isClosed: () => closed, server }
}

/** A raw client that sent the head of a large POST; it keeps its side open after the server's FIN. */
async function postHead(port: number, contentLength: number): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true })
  clients.push(socket)
  socket.on('error', (err: NodeJS.ErrnoException) => failures.set(socket, err.code ?? String(err)))
  await once(socket, 'connect')
  socket.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${contentLength}\r\n\r\n`)
  return socket
}

/** Everything the client receives until the server's side ends or resets, and how it ended. */
function received(socket: net.Socket): Promise<{ text: string; error?: string }> {
  let text = ''
  socket.setEncoding('latin1')
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve({ text, error: failures.get(socket) ?? 'destroyed' })
    socket.on('data', (d: string) => { text += d })
    socket.once('end', () => resolve({ text }))
    socket.once('error', (err: NodeJS.ErrnoException) => resolve({ text, error: err.code }))
  })
}

describe('lingering close bounds', () => {
  test('idle: a client that goes on sending is not cut; once it stops, the connection is closed after the idle bound', async () => {
    const served = await refusingServer({ idleMs: 1_000, timeMs: 60_000 })
    const socket = await postHead(served.port, 100 * MiB)
    const answer = received(socket)
    // A piece every 100 ms for 3 s: ten times inside the idle bound, three times its length.
    for (let i = 0; i < 30; i++) {
      socket.write(Buffer.alloc(KiB))
      await sleep(100)
    }
    expect(served.isClosed()).toBe(false)
    expect((await answer).text).toMatch(/^HTTP\/1\.1 401 /)
    // Silent now: the idle bound closes the connection (generous wait for a busy machine).
    await atMost(served.closed, 20_000)
    expect(served.isClosed()).toBe(true)
  })

  test('total: a client that never pauses is cut at the total bound', async () => {
    const served = await refusingServer({ idleMs: 5_000, timeMs: 1_500 })
    const socket = await postHead(served.port, 100 * MiB)
    const answer = received(socket)
    let sent = 0
    // Up to 20 s of steady sending, far past the total bound, never idle for 5 s.
    for (let i = 0; i < 200 && !served.isClosed(); i++) {
      if (!socket.destroyed) socket.write(Buffer.alloc(KiB))
      sent++
      await sleep(100)
    }
    expect(served.isClosed()).toBe(true)
    expect(sent).toBeLessThan(200)
    expect((await answer).text).toMatch(/^HTTP\/1\.1 401 /)
  })

  test('bytes: past the bound nothing more is read, and a client that reads its answer only when its sending stalls still gets it', async () => {
    const served = await refusingServer({ idleMs: 1_500, timeMs: 60_000, maxBytes: 256 * KiB })
    const total = 64 * MiB
    const socket = await postHead(served.port, total)
    // A busy client: it does not read while it sends (curl or a browser between two polls).
    socket.pause()
    let written = 0
    const piece = Buffer.alloc(256 * KiB)
    while (written < total && !socket.destroyed) {
      written += piece.length
      if (!socket.write(piece)) {
        let drained = false
        await atMost(once(socket, 'drain').then(() => { drained = true }, () => undefined), 1_000)
        if (!drained) break
      }
    }
    // The server stopped reading: the client could not hand over the body (kernel buffers aside).
    expect(written).toBeLessThan(total / 2)
    const answer = received(socket)
    socket.resume()
    const { text, error } = await answer
    expect(error).toBeUndefined()
    expect(text).toMatch(/^HTTP\/1\.1 401 [^]*\r\n\r\nno\n$/)
    // …and the connection ends at the idle bound.
    await atMost(served.closed, 20_000)
    expect(served.isClosed()).toBe(true)
  })
})
