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
  private succeededChunks = 0
  /** A chunk succeeded since progress was last drawn: the next draw clears the retry count. */
  private succeededSinceDraw = false

  constructor(
    /** The file being sent, if any: nothing is drawn without one. */
    private readonly file: () => ResumableFile | null,
    private readonly draw: (progress: Progress, chunkSucceeded: boolean) => void,
  ) {}

  /** A new file: its counts, speed and drawing start afresh. */
  startFile(): void {
    this.succeededChunks = 0
    this.succeededSinceDraw = false
    this.meter.reset()
    this.throttle.reset()
  }

  /** Resumable.js reported progress on `f`. */
  progressed(f: ResumableFile): void {
    const done = f.chunks.filter((c) => c.status() === 'success').length
    if (done > this.succeededChunks) {
      this.succeededChunks = done
      this.succeededSinceDraw = true
    }
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
    if (this.succeededSinceDraw) this.throttle.flushNow()
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
    const chunkSucceeded = this.succeededSinceDraw
    this.succeededSinceDraw = false
    this.draw(measure(f, this.meter, Date.now()), chunkSucceeded)
  }
}
