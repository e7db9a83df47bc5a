/**
 * A real HTTP proxy in front of s3rver that can answer chosen requests itself with an S3 error
 * (500, 503...), as a refusing or overloaded object store does. The request body is drained first,
 * as a server answering after reading would; everything else is forwarded untouched.
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

export interface FaultProxy {
  endpoint: string
  refuse(rule: FaultRule): void
  /** Requests refused so far. */
  refused(): number
  close(): Promise<void>
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const rules: FaultRule[] = []
  let refused = 0
  const upstream = new URL(target)
  const server = http.createServer((req, res) => {
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
    refuse: (rule) => rules.push(rule),
    refused: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
