/**
 * A SigV4-verifying step in front of a test S3 server. s3rver accepts any signature, so on its own
 * it cannot show what a presigned URL does NOT allow; this proxy recomputes every request's
 * signature with the SDK's own signer (@smithy/signature-v4), presigned (query) or Authorization
 * header alike, from what actually arrives: method, path, query, and the headers the request says
 * it signed. What does not verify is refused as S3 refuses it (403 SignatureDoesNotMatch), as is
 * a presigned URL past its expiry (403 AccessDenied, "Request has expired"); the rest goes on to
 * the server unchanged, and its answer comes back unchanged.
 *
 * The payload hash is taken as the request declares it (UNSIGNED-PAYLOAD for presigned URLs):
 * what a part's bytes must be is the object store's check (Content-Length, x-amz-checksum-sha256).
 */
import { createHash, createHmac } from 'node:crypto'
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignatureV4 } from '@smithy/signature-v4'

/** node:crypto in the shape the signer wants (the SDK's own hash package is not hoisted). */
type Data = string | ArrayBuffer | ArrayBufferView

const bytesOf = (data: Data) => (typeof data === 'string' ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data))

class Sha256 {
  private readonly hash
  constructor(secret?: Data) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret))
  }

  update(data: Data): void {
    this.hash.update(bytesOf(data))
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest())
  }
}

export interface SigningProxy {
  endpoint: string
  /** Requests refused so far, with the reason (for tests that check why). */
  refused: Array<{ method: string; url: string; reason: string }>
  /** Requests that verified and went on to the server, with the server's status (for tests that count them). */
  forwarded: Array<{ method: string; url: string; status: number }>
  close(): Promise<void>
}

export interface SigningProxyOptions {
  /** The S3 server behind the proxy, e.g. s3rver's endpoint. */
  target: string
  /** accessKeyId → secretAccessKey of every principal the proxy accepts. */
  credentials: Record<string, string>
  /** The proxy's clock, to test expiry without waiting. */
  now?: () => number
}

interface Verdict {
  ok: boolean
  status?: number
  code?: string
  reason?: string
}

const PRESIGN_PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Security-Token']

function amzDate(value: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : null
}

/** The query as the signer wants it: decoded values, repeated names as arrays. */
function queryOf(search: URLSearchParams, without: string[]): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {}
  for (const [name, value] of search) {
    if (without.includes(name)) continue
    const had = query[name]
    query[name] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value]
  }
  return query
}

function headersNamed(req: IncomingMessage, names: string[]): Record<string, string> | null {
  const headers: Record<string, string> = {}
  for (const name of names) {
    const value = req.headers[name]
    if (value === undefined) return null
    headers[name] = Array.isArray(value) ? value.join(',') : value
  }
  return headers
}

function parseCredential(credential: string): { accessKeyId: string; region: string; service: string } | null {
  const parts = credential.split('/')
  if (parts.length !== 5 || parts[4] !== 'aws4_request') return null
  return { accessKeyId: parts[0]!, region: parts[2]!, service: parts[3]! }
}

async function verify(req: IncomingMessage, options: SigningProxyOptions): Promise<Verdict> {
  const url = new URL(req.url ?? '/', 'http://proxy')
  const method = req.method ?? 'GET'
  const path = url.pathname
  const signature = url.searchParams.get('X-Amz-Signature')
  const authorization = req.headers.authorization
  const signerFor = (accessKeyId: string, region: string, service: string) => {
    const secretAccessKey = options.credentials[accessKeyId]
    if (secretAccessKey === undefined) return null
    return new SignatureV4({ credentials: { accessKeyId, secretAccessKey }, region, service, sha256: Sha256, uriEscapePath: false, applyChecksum: false })
  }
  const mismatch = (reason: string): Verdict => ({ ok: false, status: 403, code: 'SignatureDoesNotMatch', reason })

  // A CORS preflight carries no credentials, by design, even to a presigned URL (whose query it
  // repeats): the object store answers it from its CORS rules.
  if (method === 'OPTIONS' && req.headers['access-control-request-method']) return { ok: true }

  if (signature !== null) {
    const credential = parseCredential(url.searchParams.get('X-Amz-Credential') ?? '')
    const date = amzDate(url.searchParams.get('X-Amz-Date') ?? '')
    const expires = Number(url.searchParams.get('X-Amz-Expires'))
    const signedNames = (url.searchParams.get('X-Amz-SignedHeaders') ?? '').split(';').filter(Boolean)
    if (!credential || !date || !Number.isInteger(expires) || !signedNames.includes('host')) return mismatch('malformed presigned query')
    if ((options.now ?? Date.now)() > date.getTime() + expires * 1000) return { ok: false, status: 403, code: 'AccessDenied', reason: 'Request has expired' }
    const signer = signerFor(credential.accessKeyId, credential.region, credential.service)
    if (!signer) return { ok: false, status: 403, code: 'InvalidAccessKeyId', reason: `unknown access key ${credential.accessKeyId}` }
    const headers = headersNamed(req, signedNames)
    if (!headers) return mismatch(`a signed header is missing (signed: ${signedNames.join(';')})`)
    const names = new Set(signedNames)
    const redone = await signer.presign(
      // A body that is not a buffer makes the signer hash it as UNSIGNED-PAYLOAD, as S3 does for presigned URLs.
      { method, protocol: 'http:', hostname: headers.host!.split(':')[0]!, path, query: queryOf(url.searchParams, PRESIGN_PARAMS), headers, body: {} },
      { signingDate: date, expiresIn: expires, signableHeaders: names, unhoistableHeaders: names },
    )
    return redone.query?.['X-Amz-Signature'] === signature ? { ok: true } : mismatch('presigned signature does not verify')
  }

  if (authorization) {
    const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(authorization)
    const credential = m ? parseCredential(m[1]!) : null
    const date = amzDate(String(req.headers['x-amz-date'] ?? ''))
    if (!m || !credential || !date) return mismatch('malformed Authorization header')
    const signer = signerFor(credential.accessKeyId, credential.region, credential.service)
    if (!signer) return { ok: false, status: 403, code: 'InvalidAccessKeyId', reason: `unknown access key ${credential.accessKeyId}` }
    const signedNames = m[2]!.split(';')
    const headers = headersNamed(req, signedNames)
    if (!headers) return mismatch('a signed header is missing')
    const redone = await signer.sign(
      { method, protocol: 'http:', hostname: headers.host!.split(':')[0]!, path, query: queryOf(url.searchParams, []), headers, body: {} },
      { signingDate: date, signableHeaders: new Set(signedNames) },
    )
    const again = String(redone.headers.authorization ?? redone.headers.Authorization ?? '')
    return again.endsWith(`Signature=${m[3]}`) ? { ok: true } : mismatch('Authorization signature does not verify')
  }

  return { ok: false, status: 403, code: 'AccessDenied', reason: 'anonymous request' }
}

function refuse(res: ServerResponse, verdict: Verdict): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${verdict.code}</Code><Message>${verdict.reason}</Message></Error>`
  res.writeHead(verdict.status ?? 403, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), connection: 'close' })
  res.end(body)
}

export async function startSigningProxy(options: SigningProxyOptions): Promise<SigningProxy> {
  const target = new URL(options.target)
  const refused: SigningProxy['refused'] = []
  const forwarded: SigningProxy['forwarded'] = []
  const server: Server = createServer((req, res) => {
    verify(req, options).then((verdict) => {
      if (!verdict.ok) {
        refused.push({ method: req.method ?? '', url: req.url ?? '', reason: verdict.reason ?? '' })
        // The body is not read: the socket closes after the answer, as S3 may do.
        req.resume()
        refuse(res, verdict)
        return
      }
      const upstream = httpRequest(
        { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (answer) => {
          forwarded.push({ method: req.method ?? '', url: req.url ?? '', status: answer.statusCode ?? 502 })
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
        },
      )
      upstream.on('error', () => res.destroy())
      req.pipe(upstream)
    }, () => res.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    refused,
    forwarded,
    close: () => new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}
