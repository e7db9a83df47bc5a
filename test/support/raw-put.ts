/**
 * A PUT as a browser sends it to a presigned URL, with full control of what goes on the wire
 * (fetch would not let a test send a Content-Length other than the body's).
 */
import { request } from 'node:http'

export interface RawAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

export function rawPut(url: string, body: Buffer, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { 'content-length': String(body.length), ...headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    // A server that refuses early may close before the whole body is sent: its answer still counts.
    req.on('error', reject)
    req.end(body)
  })
}
