/**
 * How long an expired upload's tombstone is kept, in TTLs: long enough that a client coming back
 * after a long pause still gets a clear 410 rather than a silent fresh start, short enough that
 * abandoned uploads do not pile up forever. Every staging store's sweep applies the same rule.
 */
export const TOMBSTONE_TTLS = 7

export function tombstoneLifetime(ttlMs: number): number {
  return ttlMs * TOMBSTONE_TTLS
}
