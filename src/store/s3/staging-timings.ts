/** How long the S3 staging store's claims, leases and waits last; tests shorten them. */
export interface S3StagingTimings {
  /** A part claim lasts this long without renewal; renewed every third of it while the part streams. */
  partLeaseMs: number
  /** A CreateMultipartUpload claim whose host recorded no UploadId after this long is taken over. */
  createLeaseMs: number
  /** A `completing` upload whose host has not finished after this long is completed by another host. */
  completionStaleMs: number
  /** How long a request that lost the completion race waits to see `complete` before answering partial. */
  completionWaitMs: number
  /**
   * An owner's lock (held while one host counts and creates) whose host died is taken over after
   * this; hosts' clocks must agree to well within it.
   */
  ownerLockLeaseMs: number
  pollMs: number
}

export const DEFAULT_TIMINGS: S3StagingTimings = {
  partLeaseMs: 20_000,
  createLeaseMs: 30_000,
  completionStaleMs: 120_000,
  completionWaitMs: 30_000,
  ownerLockLeaseMs: 30_000,
  pollMs: 50,
}
