/** Human-readable sizes, speeds and durations for the upload UI. */

// Binary units, labelled as such: the server's limits are configured in powers of 1024.
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']

export function formatSize(bytes: number | undefined | null): string {
  if (bytes === undefined || bytes === null || !Number.isFinite(bytes) || bytes < 0) return '—'
  if (bytes < 1024) return `${Math.round(bytes)} B`
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit += 1
  }
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2
  return `${value.toFixed(digits)} ${UNITS[unit]}`
}

export function formatSpeed(bytesPerSecond: number | undefined | null): string {
  if (!bytesPerSecond || !Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return '—'
  return `${formatSize(bytesPerSecond)}/s`
}

/** 75 → "1 min 15 s"; 4000 → "1 h 6 min". */
export function formatDuration(seconds: number | undefined | null): string {
  if (seconds === undefined || seconds === null || !Number.isFinite(seconds) || seconds < 0) return '—'
  const s = Math.round(seconds)
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${s % 60} s`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h} h ${m % 60} min`
  return `${Math.floor(h / 24)} d ${h % 24} h`
}

/**
 * Upload speed over a sliding window: samples of (time, bytes done); speed is the bytes gained
 * between the oldest sample still inside the window and the newest, over that time.
 */
export class SpeedMeter {
  private samples: Array<{ t: number; bytes: number }> = []

  /**
   * `minSpanMs`: no speed until the samples span this long. Right after a start or a resume the
   * first seconds say nothing (connection set-up, one chunk in flight), and "20 MiB/s · 1 s left"
   * that turns into 7 s is worse than no figure.
   */
  constructor(private readonly windowMs = 5000, private readonly minSpanMs = 2000) {}

  reset(): void {
    this.samples = []
  }

  add(bytes: number, now = Date.now()): void {
    const last = this.samples[this.samples.length - 1]
    // Progress can only go forward; a smaller value means a restart.
    if (last && bytes < last.bytes) this.samples = []
    this.samples.push({ t: now, bytes })
    const cutoff = now - this.windowMs
    while (this.samples.length > 2 && this.samples[1].t <= cutoff) this.samples.shift()
  }

  /** Bytes per second over the window, or 0 while there is not enough data to mean anything. */
  speed(now = Date.now()): number {
    if (this.samples.length < 2) return 0
    const first = this.samples[0]
    const last = this.samples[this.samples.length - 1]
    if (last.t - first.t < this.minSpanMs) return 0
    const elapsed = (Math.max(now, last.t) - first.t) / 1000
    return Math.max(0, (last.bytes - first.bytes) / elapsed)
  }

  /** Seconds left for `remaining` bytes at the current speed, or undefined when unknown. */
  eta(remaining: number, now = Date.now()): number | undefined {
    const speed = this.speed(now)
    return speed > 0 ? remaining / speed : undefined
  }
}
