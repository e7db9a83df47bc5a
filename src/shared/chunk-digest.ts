/**
 * The per-chunk SHA-256 the edit component sends with every chunk (on the test GET and on the
 * POST), and the only form the server accepts for it: 64 lower-case hex digits. Clients that send
 * none (plain Resumable.js, curl) are served as before.
 */
export const CHUNK_DIGEST_PARAM = 'resumableChunkSha256'

const CHUNK_DIGEST = /^[0-9a-f]{64}$/

export function isChunkDigest(value: unknown): value is string {
  return typeof value === 'string' && CHUNK_DIGEST.test(value)
}

/** Lower-case hex of a digest the browser's `crypto.subtle.digest` returned. */
export function digestHex(digest: ArrayBuffer): string {
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')
}
