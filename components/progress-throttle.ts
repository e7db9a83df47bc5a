/**
 * How often an upload's progress reaches React. Resumable.js reports progress on every chunk's
 * answer (tens a second with small chunks on a fast link); rendering each one kept the edit page
 * laying out and repainting all the time and took CPU from the upload (bench/RESULTS.md). Progress
 * is drawn at most once per interval instead, and the last report of a burst is never lost.
 */

/** At most ~4 progress renders a second: steps small enough to read as movement. */
export const PROGRESS_INTERVAL_MS = 250

export class ProgressThrottle {
  private last = Number.NEGATIVE_INFINITY
  private timer: ReturnType<typeof setTimeout> | null = null

  constructor(
    private readonly flush: () => void,
    private readonly interval: number = PROGRESS_INTERVAL_MS,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Progress changed: drawn now when the last draw is an interval old, else once the interval ends. */
  request(): void {
    if (this.timer) return
    const wait = this.last + this.interval - this.clock()
    if (wait <= 0) this.run()
    else this.timer = setTimeout(() => this.run(), wait)
  }

  /** Drawn now, whatever the interval: a state the person waits for (finishing, complete) must not lag. */
  flushNow(): void {
    this.cancel()
    this.run()
  }

  /** Forgets a pending draw (the upload stopped, paused or was replaced). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  /** The next request draws at once (a new file or a resume starts a new burst). */
  reset(): void {
    this.cancel()
    this.last = Number.NEGATIVE_INFINITY
  }

  private run(): void {
    this.timer = null
    this.last = this.clock()
    this.flush()
  }
}
