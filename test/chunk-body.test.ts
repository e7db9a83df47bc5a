/**
 * src/route/chunk-body.ts, a raw (octet) chunk body whose client goes away: reading it fails with a
 * 400 InvalidRequest (it was an unexpected error), whenever the store reads it, and the process
 * never sees an uncaught 'error' event (an error pushed into a body no one read crashed a server).
 */
import { afterEach, describe, expect, test } from '@jest/globals'
import express from 'express'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import net from 'node:net'
import type { Readable } from 'node:stream'
import { InvalidRequest } from '../src/errors.js'
import { readChunkBody } from '../src/route/chunk-body.js'

let server: Server | null = null
afterEach(async () => {
  server?.closeAllConnections()
  await new Promise((done) => server?.close(done) ?? done(undefined))
  server = null
})

/** A server whose one route hands the body to `onFile`; resolves with its port. */
async function serve(onFile: (stream: Readable) => Promise<string>): Promise<number> {
  const app = express()
  app.post('/', (req, res) => {
    readChunkBody(req, 8 * 1024 * 1024, ({ stream }) => onFile(stream)).then(
      (answer) => { res.status(200).end(answer) },
      (error: Error & { status?: number }) => { if (!res.headersSent) res.status(error.status ?? 500).end(error.message) },
    )
  })
  server = createServer(app)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as net.AddressInfo).port
}

/** Sends the headers of a 1 MiB octet POST and `sent` bytes of it, waits `waitMs`, then cuts the connection. */
async function cutOff(port: number, sent: number, waitMs: number): Promise<string> {
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  let answer = ''
  socket.on('data', (d) => { answer += String(d) })
  socket.on('error', () => undefined)
  socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${1024 * 1024}\r\n\r\n`)
  socket.write(Buffer.alloc(sent, 7))
  await new Promise((done) => setTimeout(done, waitMs))
  socket.destroy()
  return answer
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

/**
 * Serves a store that waits `waitMs`, then reads the whole body as the local store does; cuts the
 * client off after 64 KiB of 1 MiB and returns what reading failed with.
 */
async function readAfterCutOff(waitMs: number): Promise<unknown> {
  let failure: unknown = null
  const port = await serve(async (stream) => {
    await sleep(waitMs)
    try {
      for await (const piece of stream) void piece
    } catch (error) {
      failure = error
      throw error
    }
    return 'read'
  })
  await cutOff(port, 64 * 1024, 100)
  await sleep(waitMs + 200)
  return failure
}

describe('an octet chunk body cut off by the client', () => {
  test('read by the store: reading fails with InvalidRequest (400), not an unexpected error', async () => {
    const failure = await readAfterCutOff(0)
    expect(failure).toBeInstanceOf(InvalidRequest)
    expect((failure as InvalidRequest).status).toBe(400)
  })

  test('read only after the client went away (the store waited): still an InvalidRequest, with nothing uncaught', async () => {
    expect(await readAfterCutOff(400)).toBeInstanceOf(InvalidRequest)
  })
})
