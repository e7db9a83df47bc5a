import type { CORSRule } from '@aws-sdk/client-s3'
import { ConfigurationError } from '../../errors.js'
import { isTransient, isUnsupported, storageError, type S3Clients } from './client.js'

/** The setting that turns direct uploads on: what the operator has to fix or turn off. */
const OPTION = 'storage.s3.upload'

/**
 * The headers a signed part PUT sends that a browser preflights: the body's type, and the part's
 * SHA-256 that the signature covers. (Content-Length is set by the browser and needs no rule.)
 */
export const DIRECT_PUT_HEADERS = ['content-type', 'x-amz-checksum-sha256']

export interface CorsNeeds {
  /** Request headers the PUT sends beyond the safelisted ones (default DIRECT_PUT_HEADERS). */
  headers?: string[]
}

/** S3 CORS patterns allow one `*` wildcard anywhere; matched case-insensitively here as headers are. */
function matches(pattern: string, value: string, caseless: boolean): boolean {
  const [p, v] = caseless ? [pattern.toLowerCase(), value.toLowerCase()] : [pattern, value]
  const star = p.indexOf('*')
  if (star < 0) return p === v
  const head = p.slice(0, star)
  const tail = p.slice(star + 1)
  return v.length >= head.length + tail.length && v.startsWith(head) && v.endsWith(tail)
}

/** Stands in for the admin's origin in the policy shown when the app was not told it. */
export const ORIGIN_PLACEHOLDER = 'https://admin.example.com'

/**
 * What one rule lacks for a direct PUT from `origin`, or null when it does not apply to that origin
 * at all. Without an origin every rule applies: the check then proves the methods, headers and
 * ETag, and leaves the origins to whoever wrote them.
 */
function shortcomings(rule: CORSRule, origin: string | null, headers: string[]): string[] | null {
  if (origin !== null && !(rule.AllowedOrigins ?? []).some((o) => matches(o, origin, false))) return null
  const missing: string[] = []
  if (!(rule.AllowedMethods ?? []).some((m) => m.toUpperCase() === 'PUT')) missing.push('the PUT method (AllowedMethods)')
  for (const header of headers) {
    if (!(rule.AllowedHeaders ?? []).some((h) => matches(h, header, true))) missing.push(`the request header ${header} (AllowedHeaders)`)
  }
  if (!(rule.ExposeHeaders ?? []).some((h) => h.toLowerCase() === 'etag')) missing.push('the ETag response header (ExposeHeaders)')
  return missing
}

/** The CORS configuration to apply, as `aws s3api put-bucket-cors --cors-configuration` takes it. */
export function corsPolicyFor(origin: string, headers: string[] = DIRECT_PUT_HEADERS): string {
  return JSON.stringify({
    CORSRules: [{ AllowedOrigins: [origin], AllowedMethods: ['PUT'], AllowedHeaders: headers, ExposeHeaders: ['ETag'], MaxAgeSeconds: 3600 }],
  }, null, 2)
}

/**
 * `verified`: a rule of the bucket allows what direct uploads need. `unverifiable`: the server has
 * no bucket CORS API (MinIO's community edition answers NotImplemented and takes a server-wide
 * MINIO_API_CORS_ALLOW_ORIGIN instead; fauxqs answers with a bucket listing), so nothing can be
 * checked: the caller decides whether to start anyway (and says so loudly).
 */
export type CorsCheck = 'verified' | 'unverifiable'

/**
 * Checks at start-up that the bucket lets the admin's pages PUT parts and read their ETag: some
 * CORS rule must allow `origin` (or `*`), the PUT method, the headers the signed PUT sends, and
 * expose ETag. Otherwise every upload would fail in the browser with an opaque CORS error, so the
 * app does not start: a ConfigurationError names what is missing and shows the JSON to apply.
 * A bucket without rules, or whose rules the app may not read, fails the same way; an object store
 * that is down fails with its retryable StorageUnavailable.
 */
export async function checkBucketCors(s3: S3Clients, bucket: string, origin: string | null, needs: CorsNeeds = {}): Promise<CorsCheck> {
  const headers = (needs.headers ?? DIRECT_PUT_HEADERS).map((h) => h.toLowerCase())
  const policy = () => `Apply this CORS configuration to the bucket (merged with any rules it has${origin === null ? `, ${ORIGIN_PLACEHOLDER} replaced by the admin's origin, which storage.s3.origin names` : ''}):\n${corsPolicyFor(origin ?? ORIGIN_PLACEHOLDER, headers)}`
  const from = origin === null ? 'the admin\'s origin' : origin
  let rules: CORSRule[]
  try {
    const answer = (await s3.client.send(new s3.sdk.GetBucketCorsCommand({ Bucket: bucket }))).CORSRules
    // A bucket without CORS answers NoSuchCORSConfiguration, never an empty configuration: a
    // success without rules is another request's answer, from a server without bucket CORS.
    if (answer === undefined) return 'unverifiable'
    rules = answer
  } catch (error) {
    const name = (error as { name?: string }).name ?? ''
    if (name === 'NoSuchCORSConfiguration') rules = []
    else if (isUnsupported(error)) return 'unverifiable'
    else if (isTransient(error)) throw storageError(error, `reading the CORS configuration of bucket ${bucket}`)
    else throw new ConfigurationError(OPTION, `is 'direct', but the CORS configuration of bucket ${bucket} could not be read (${name || String(error)}); the app needs s3:GetBucketCORS on it. ${policy()}`)
  }
  const candidates = rules.map((rule) => shortcomings(rule, origin, headers)).filter((m): m is string[] => m !== null)
  if (candidates.some((missing) => missing.length === 0)) return 'verified'
  if (!candidates.length) {
    const what = rules.length ? `none of its ${rules.length} CORS rules allows the origin ${origin}` : 'it has no CORS rules'
    throw new ConfigurationError(OPTION, `is 'direct', but browsers at ${from} cannot send parts to bucket ${bucket}: ${what}. ${policy()}`)
  }
  const closest = candidates.reduce((a, b) => (b.length < a.length ? b : a))
  throw new ConfigurationError(OPTION, `is 'direct', but the CORS rule of bucket ${bucket} for ${from} does not allow ${closest.join(', ')}. ${policy()}`)
}
