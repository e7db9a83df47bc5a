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

type Presign = typeof import('@aws-sdk/s3-request-presigner').getSignedUrl

let presigner: Promise<Presign> | null = null
function loadPresigner(): Promise<Presign> {
  presigner ??= import('@aws-sdk/s3-request-presigner').then((m) => m.getSignedUrl).catch((error: unknown) => {
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
    const getSignedUrl = await loadPresigner()
    const signingDate = new Date(this.now())
    const expiresAt = signingDate.getTime() + this.expiresIn * 1000
    return Promise.all(parts.map(async (part, i) => {
      const checksum = checksums[i]
      const command = new this.s3.sdk.UploadPartCommand({
        Bucket: this.where.bucket,
        Key: target.key,
        UploadId: target.uploadId,
        PartNumber: part.partNumber,
        ContentLength: part.length,
        ChecksumSHA256: checksum,
      })
      const signed = new Set(['content-length'])
      if (checksum) signed.add('x-amz-checksum-sha256')
      const url = await getSignedUrl(this.s3.client, command, {
        expiresIn: this.expiresIn,
        signingDate,
        signableHeaders: signed,
        // Kept a header (not hoisted into the query) so that the browser has to send this digest
        // and the object store checks the body against it.
        unhoistableHeaders: new Set(['x-amz-checksum-sha256']),
      })
      const headers: Record<string, string> = {}
      if (checksum) headers['x-amz-checksum-sha256'] = checksum
      return { partNumber: part.partNumber, url, headers, expiresAt }
    }))
  }
}
