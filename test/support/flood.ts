/**
 * A large multipart POST generated on the fly (never held in memory) to a server in another
 * process, stopping as soon as the server answers: what a hostile or careless client sends.
 *
 *   const answer = await floodPost(server.url, '/admin/api/resumable/x', { bytes: 250 * MiB })
 */
import http from 'node:http'
import { readdirSync } from 'node:fs'

export const MiB = 1024 * 1024

export interface FloodAnswer {
  /** Undefined when the connection was reset before any answer. */
  status?: number
  headers?: http.IncomingHttpHeaders
  text: string
  /** Parsed JSON body, when the answer is JSON. */
  body?: any // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON of any shape, read by the tests
  errorCode?: string
  /** Body bytes handed to the socket when the answer (or the error) arrived. */
  sentAtAnswer: number
}

const BOUNDARY = '----floodboundary7MA4YWxkTrZu0gW'

export async function floodPost(
  base: string,
  path: string,
  options: { bytes: number; cookie?: string | null; headers?: Record<string, string>; method?: string },
): Promise<FloodAnswer> {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\nflood\r\n`
    + `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n`
    + 'Content-Type: application/octet-stream\r\n\r\n',
  )
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`)
  const total = head.length + options.bytes + tail.length
  const url = new URL(path, base)
  const headers: Record<string, string> = {
    'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`,
    'Content-Length': String(total),
    Connection: 'keep-alive',
    ...options.headers,
  }
  if (options.cookie) headers.Cookie = options.cookie
  return new Promise((resolve) => {
    const req = http.request(url, { method: options.method ?? 'POST', headers, agent: false })
    let sent = 0
    let settled = false
    let answered = false
    const finish = (answer: FloodAnswer): void => {
      if (settled) return
      settled = true
      req.destroy()
      resolve(answer)
    }
    req.on('response', (res) => {
      answered = true
      const sentAtAnswer = sent
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => parts.push(d))
      const done = (): void => {
        const text = Buffer.concat(parts).toString('utf8')
        let body: unknown
        if (String(res.headers['content-type']).includes('json')) {
          try {
            body = JSON.parse(text)
          } catch { /* not JSON after all */ }
        }
        finish({ status: res.statusCode, headers: res.headers, text, body, sentAtAnswer })
      }
      res.on('end', done)
      res.on('error', done)
      res.on('close', done)
    })
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (!answered) finish({ text: '', errorCode: error.code, sentAtAnswer: sent })
    })
    const block = Buffer.alloc(256 * 1024, 0x61)
    void (async () => {
      const write = async (piece: Buffer): Promise<boolean> => {
        if (answered || settled || req.destroyed) return false
        sent += piece.length
        if (!req.write(piece)) {
          await new Promise<void>((drained) => {
            const done = (): void => {
              req.off('drain', done)
              req.off('close', done)
              drained()
            }
            req.on('drain', done)
            req.on('close', done)
          })
        }
        return true
      }
      if (!await write(head)) return
      for (let left = options.bytes; left > 0; left -= block.length) {
        if (!await write(left >= block.length ? block : block.subarray(0, left))) return
      }
      if (await write(tail)) req.end()
    })()
  })
}

/** Entries of a folder (the child's TMPDIR), sorted. */
export function listing(dir: string): string[] {
  return readdirSync(dir).sort()
}

/**
 * The folder's entries once they stop changing to something else than `expected` (cleanup after
 * a refused upload is asynchronous): polls for up to `waitMs`, then returns what is there.
 */
export async function settledListing(dir: string, expected: string[] = [], waitMs = 3000): Promise<string[]> {
  const deadline = Date.now() + waitMs
  let now = listing(dir)
  while (JSON.stringify(now) !== JSON.stringify(expected) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50))
    now = listing(dir)
  }
  return now
}
