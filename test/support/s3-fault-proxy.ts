/**
 * A real HTTP proxy in front of s3rver that can answer chosen requests itself with an S3 error
 * (500, 503...), as a refusing or overloaded object store does. The request body is drained first,
 * as a server answering after reading would; everything else is forwarded untouched.
 * It also records what was sent (method, URL, headers, and the body of POSTs, which are small XML):
 * s3rver ignores checksum headers, so tests assert on what reached the wire.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FaultRule {
  /** e.g. (req) => req.method === 'PUT' && req.url.includes('partNumber=') */
  match(req: http.IncomingMessage): boolean
  status: number
  code: string
  /** How many matching requests to refuse (then the rule is spent). */
  times: number
}

export interface SentRequest {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  /** The body of a POST (CreateMultipartUpload, CompleteMultipartUpload); '' for other methods. */
  body: string
}

export interface FaultProxy {
  endpoint: string
  /** Every request received so far, in arrival order (POST bodies once fully read). */
  sent(): SentRequest[]
  refuse(rule: FaultRule): void
  /** Requests refused so far. */
  refused(): number
  close(): Promise<void>
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const rules: FaultRule[] = []
  let refused = 0
  const sent: SentRequest[] = []
  const upstream = new URL(target)
  const server = http.createServer((req, res) => {
    const record: SentRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '' }
    sent.push(record)
    if (req.method === 'POST') req.on('data', (piece: Buffer) => { record.body += piece.toString('utf8') })
    const rule = rules.find((r) => r.times > 0 && r.match(req))
    if (rule) {
      rule.times--
      refused++
      req.resume()
      req.on('end', () => {
        res.writeHead(rule.status, { 'Content-Type': 'application/xml' })
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${rule.code}</Code><Message>refused by the test proxy</Message></Error>`)
      })
      return
    }
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    forward.on('error', () => res.destroy())
    req.pipe(forward)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    sent: () => sent,
    refuse: (rule) => rules.push(rule),
    refused: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
