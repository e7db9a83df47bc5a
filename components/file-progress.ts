/**
 * The progress of the one file an edit component uploads, as it reaches React: the speed meter, how
 * often progress is drawn (progress-throttle.ts), and whether a chunk succeeded since the last draw
 * (a success clears the bar's retry count, so it must be drawn before a later retry is shown).
 */
import { SpeedMeter } from './format.js'
import { ProgressThrottle } from './progress-throttle.js'
import { measure } from './resumable-events.js'
import type { ResumableFile } from './resumable-types.js'
import type { Progress } from './upload-state.js'

export class FileProgress {
  private readonly meter = new SpeedMeter(5000)
  private readonly throttle = new ProgressThrottle(() => this.flush())
  /** Chunks that had succeeded at the last draw: more now means the draw clears the retry count. */
  private succeededChunks = 0

  constructor(
    /** The file being sent, if any: nothing is drawn without one. */
    private readonly file: () => ResumableFile | null,
    private readonly draw: (progress: Progress, chunkSucceeded: boolean) => void,
  ) {}

  /** A new file: its counts, speed and drawing start afresh. */
  startFile(): void {
    this.succeededChunks = 0
    this.meter.reset()
    this.throttle.reset()
  }

  /**
   * Resumable.js reported progress (several times per chunk request). Successes are counted when
   * drawing, not here: counting walks every chunk of the file, which on each event made the page's
   * work grow with the square of the chunk count (bench/RESULTS.md).
   */
  progressed(): void {
    this.throttle.request()
  }

  /** Speed and time left keep moving (and decaying) between progress events. */
  tick(): void {
    this.throttle.request()
  }

  /** Drawn now: a state the person waits for (finishing, complete) must not lag. */
  drawNow(): void {
    this.throttle.flushNow()
  }

  /** A retry is about to be shown: a success not drawn yet must not clear its count afterwards. */
  beforeRetry(): void {
    const f = this.file()
    if (f && succeeded(f) > this.succeededChunks) this.throttle.flushNow()
  }

  /** The speed is measured anew (a pause, a resume, another file picked). */
  restartSpeed(): void {
    this.meter.reset()
  }

  /** Sending goes on after a pause: speed measured anew, the next progress drawn at once. */
  resumed(): void {
    this.meter.reset()
    this.throttle.reset()
  }

  /** No more drawing until progress is reported again (stopped, paused, failed, replaced). */
  stopDrawing(): void {
    this.throttle.cancel()
  }

  private flush(): void {
    const f = this.file()
    if (!f) return
    const done = succeeded(f)
    const chunkSucceeded = done > this.succeededChunks
    this.succeededChunks = done
    this.draw(measure(f, this.meter, Date.now()), chunkSucceeded)
  }
}

function succeeded(f: ResumableFile): number {
  let done = 0
  for (const c of f.chunks) if (c.status() === 'success') done++
  return done
}
