import { InvalidRequest } from '../../errors.js'
import { MAX_PARTS, MAX_PART_SIZE } from '../s3-part-limits.js'
import type { S3Clients, S3Location } from './client.js'

/** Short: a URL is signed per chunk just before it is sent, and signed again on a retry. */
export const DEFAULT_PART_URL_SECONDS = 15 * 60
/** SigV4 refuses presigned URLs valid longer than 7 days. */
const MAX_PART_URL_SECONDS = 7 * 24 * 3600

/** One multipart upload in the bucket: the parts a URL may write belong to exactly this one. */
export interface MultipartTarget {
  key: string
  uploadId: string
}

export interface PartToSign {
  partNumber: number
  /** The exact byte length of the part: signed, so a PUT of another length fails verification. */
  length: number
  /** The part's SHA-256 as 64 hex digits; signed as `x-amz-checksum-sha256` (base64) when given. */
  sha256?: string
}

export interface SignedPart {
  partNumber: number
  url: string
  /** What the browser must send with the PUT, exactly: each is part of the signature. */
  headers: Record<string, string>
  /** Epoch milliseconds after which the object store refuses the URL. */
  expiresAt: number
}

type Presigner = typeof import('@aws-sdk/s3-request-presigner')

let presigner: Promise<Presigner> | null = null
function loadPresigner(): Promise<Presigner> {
  presigner ??= import('@aws-sdk/s3-request-presigner').catch((error: unknown) => {
    presigner = null
    throw new Error(`Direct uploads need the optional peer dependency @aws-sdk/s3-request-presigner (npm install @aws-sdk/s3-request-presigner): ${String(error)}`)
  })
  return presigner
}

const HEX_SHA256 = /^[0-9a-f]{64}$/i

/** `x-amz-checksum-sha256` carries the digest base64-encoded; the plugin passes it around as hex. */
export function sha256HexToBase64(hex: string): string {
  if (!HEX_SHA256.test(hex)) throw new InvalidRequest('A part checksum must be a SHA-256 as 64 hexadecimal digits.')
  return Buffer.from(hex, 'hex').toString('base64')
}

function checkPart(part: PartToSign): void {
  if (!Number.isInteger(part.partNumber) || part.partNumber < 1 || part.partNumber > MAX_PARTS) {
    throw new InvalidRequest(`Part number ${part.partNumber} is outside 1..${MAX_PARTS}.`)
  }
  if (!Number.isSafeInteger(part.length) || part.length < 1 || part.length > MAX_PART_SIZE) {
    throw new InvalidRequest(`Part ${part.partNumber} has an invalid length (${part.length}).`)
  }
}

/**
 * Presigns UploadPart URLs for one multipart upload. What a URL allows is exactly what it names:
 * its UploadId, key and part number are in the signed query, and the part's Content-Length (and,
 * when given, its SHA-256) are signed headers, so the object store refuses a PUT that changes any of
 * them, or that arrives after `expiresIn`. Signing needs no request to the object store: a batch of
 * URLs costs the route no round trip.
 */
export class PartSigner {
  readonly expiresIn: number
  private readonly now: () => number

  constructor(
    private readonly s3: S3Clients,
    private readonly where: S3Location,
    options: { expiresIn?: number; now?: () => number } = {},
  ) {
    this.expiresIn = options.expiresIn ?? DEFAULT_PART_URL_SECONDS
    if (!Number.isInteger(this.expiresIn) || this.expiresIn < 1 || this.expiresIn > MAX_PART_URL_SECONDS) {
      throw new RangeError(`A part URL must be valid for 1..${MAX_PART_URL_SECONDS} seconds (got ${this.expiresIn}).`)
    }
    this.now = options.now ?? Date.now
  }

  async sign(target: MultipartTarget, part: PartToSign): Promise<SignedPart> {
    return (await this.signBatch(target, [part]))[0]!
  }

  /** One URL per part, in the order given; a bad part refuses the whole batch before anything is signed. */
  async signBatch(target: MultipartTarget, parts: PartToSign[]): Promise<SignedPart[]> {
    for (const part of parts) checkPart(part)
    const checksums = parts.map((p) => (p.sha256 === undefined ? undefined : sha256HexToBase64(p.sha256)))
    const sdk = await loadPresigner()
    const signingDate = new Date(this.now())
    const expiresAt = signingDate.getTime() + this.expiresIn * 1000
    const [first, ...rest] = parts
    if (!first) return []
    const viaSdk = (part: PartToSign, checksum: string | undefined) => sdk.getSignedUrl(this.s3.client, new this.s3.sdk.UploadPartCommand({
      Bucket: this.where.bucket,
      Key: target.key,
      UploadId: target.uploadId,
      PartNumber: part.partNumber,
      ContentLength: part.length,
      ChecksumSHA256: checksum,
    }), this.options(signingDate, checksum))
    const url = await viaSdk(first, checksums[0])
    const signed = [{ partNumber: first.partNumber, url, headers: headersOf(checksums[0]), expiresAt }]
    if (!rest.length) return signed
    // The SDK builds and signs each request through its whole middleware stack, which costs the
    // app far more than the signature. The other parts' requests differ from the first's only in
    // the part number, the length and the digest: they are the first's with those changed, signed
    // with the same signer, options and date (test/part-signer.test.ts: the same URLs, byte for byte).
    const template = templateOf(url)
    const signer = template ? new sdk.S3RequestPresigner({ ...this.s3.client.config, signingName: template.service, region: async () => template.region }) : null
    const presign = async (part: PartToSign, checksum: string | undefined): Promise<string> => {
      const request = {
        ...template!.request,
        query: { ...template!.request.query, partNumber: String(part.partNumber) },
        headers: { host: template!.host, 'content-length': String(part.length), ...(checksum ? { 'x-amz-checksum-sha256': checksum } : {}) },
      }
      const presigned = await signer!.presign(request as Parameters<NonNullable<typeof signer>['presign']>[0], {
        ...this.options(signingDate, checksum), signingRegion: template!.region, signingService: template!.service,
      })
      return urlOf(presigned)
    }
    // The first part signed both ways must give the SDK's URL exactly; else every part goes through the SDK.
    if (!template || await presign(first, checksums[0]) !== url) {
      return [...signed, ...await Promise.all(rest.map(async (part, i) => ({
        partNumber: part.partNumber, url: await viaSdk(part, checksums[i + 1]), headers: headersOf(checksums[i + 1]), expiresAt,
      })))]
    }
    return [...signed, ...await Promise.all(rest.map(async (part, i) => ({
      partNumber: part.partNumber, url: await presign(part, checksums[i + 1]), headers: headersOf(checksums[i + 1]), expiresAt,
    })))]
  }

  private options(signingDate: Date, checksum: string | undefined) {
    const signed = new Set(['content-length'])
    if (checksum) signed.add('x-amz-checksum-sha256')
    return {
      expiresIn: this.expiresIn,
      signingDate,
      signableHeaders: signed,
      // Kept a header (not hoisted into the query) so that the browser has to send this digest
      // and the object store checks the body against it.
      unhoistableHeaders: new Set(['x-amz-checksum-sha256']),
    }
  }
}

function headersOf(checksum: string | undefined): Record<string, string> {
  return checksum ? { 'x-amz-checksum-sha256': checksum } : {}
}

/** Query parameters the signature adds: what is left of a presigned URL without them is the request signed. */
const SIGNATURE_PARAMS = new Set(['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Security-Token'])

interface Template {
  request: { method: string; protocol: string; hostname: string; port?: number; path: string; query: Record<string, string> }
  host: string
  region: string
  service: string
}

/**
 * The request a presigned UploadPart URL was signed for, or null when it signed headers other than
 * those a part's request carries (then each part goes through the SDK).
 */
function templateOf(url: string): Template | null {
  const parsed = new URL(url)
  const params = parsed.searchParams
  const signedHeaders = params.get('X-Amz-SignedHeaders')?.split(';') ?? []
  if (signedHeaders.some((h) => !['content-length', 'host', 'x-amz-checksum-sha256'].includes(h))) return null
  const [, , region, service] = params.get('X-Amz-Credential')?.split('/') ?? []
  if (!region || !service || params.getAll('partNumber').length !== 1) return null
  const query: Record<string, string> = {}
  for (const [key, value] of params) {
    if (SIGNATURE_PARAMS.has(key)) continue
    if (key in query) return null
    query[key] = value
  }
  return {
    request: {
      method: 'PUT',
      protocol: parsed.protocol,
      hostname: parsed.hostname,
      ...(parsed.port ? { port: Number(parsed.port) } : {}),
      path: parsed.pathname,
      query,
    },
    host: parsed.host,
    region,
    service,
  }
}

/** As the SDK's formatUrl writes a presigned request: the query sorted by name, each part URI-escaped. */
function urlOf(request: { protocol: string; hostname: string; port?: number; path: string; query?: Record<string, string | string[] | null> }): string {
  const query = Object.keys(request.query ?? {}).sort().flatMap((key) => {
    const value = request.query![key]
    if (Array.isArray(value)) return value.map((v) => `${escapeUri(key)}=${escapeUri(v)}`)
    return [value || typeof value === 'string' ? `${escapeUri(key)}=${escapeUri(value)}` : escapeUri(key)]
  })
  const port = request.port ? `:${request.port}` : ''
  return `${request.protocol}//${request.hostname}${port}${request.path}${query.length ? `?${query.join('&')}` : ''}`
}

function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}
