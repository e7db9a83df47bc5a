/** Size of the buffers that carry fed bytes (S3 chunks, a finished file) to the hashing thread. */
export const BATCH_SIZE = 1024 * 1024

/**
 * The buffers that carry bytes to the hashing thread, taken again once the thread hands them back.
 * Why not fresh ones: a buffer moved to the thread is freed only when that thread collects garbage,
 * and the thread allocates almost nothing on its own heap, so V8 lets tens of MiB of spent buffers
 * pile up there before it collects (on S3 uploads with checksums, 80 MiB of peak RSS). Handed back,
 * the bytes in flight and the chunks kept for the hash are all that is held.
 */
export class BatchPool {
  private readonly free: ArrayBuffer[] = []
  /** Buffers this pool ever allocated: what it costs when the thread does not hand them back. */
  allocated = 0

  /** `keep`: free buffers held for reuse; more handed back at once are left to the GC. */
  constructor(private readonly keep: number) {}

  take(): Uint8Array<ArrayBuffer> {
    const buffer = this.free.pop()
    if (buffer) return new Uint8Array(buffer)
    this.allocated++
    return new Uint8Array(BATCH_SIZE)
  }

  give(buffers: ArrayBuffer[]): void {
    for (const buffer of buffers) {
      if (this.free.length >= this.keep) return
      if (buffer.byteLength === BATCH_SIZE) this.free.push(buffer)
    }
  }
}

/**
 * Copies pieces (socket or stream buffers, which their owners reuse) into pooled batches and sends
 * each batch once it is full, or at `flush`: one message per MiB, not one per socket read.
 */
export class Batcher {
  private batch: Uint8Array<ArrayBuffer> | null = null
  private filled = 0

  constructor(private readonly pool: BatchPool, private readonly send: (bytes: Uint8Array<ArrayBuffer>) => void) {}

  push(bytes: Uint8Array): void {
    let at = 0
    while (at < bytes.length) {
      this.batch ??= this.pool.take()
      const n = Math.min(bytes.length - at, this.batch.length - this.filled)
      this.batch.set(bytes.subarray(at, at + n), this.filled)
      this.filled += n
      at += n
      if (this.filled === this.batch.length) this.flush()
    }
  }

  /** Sends what is filled: a view of the batch, whose whole buffer moves with it. */
  flush(): void {
    if (!this.batch || !this.filled) return
    const bytes = this.batch.subarray(0, this.filled)
    this.batch = null
    this.filled = 0
    this.send(bytes)
  }

  /** Forgets what is filled and not sent; the batch goes back to the pool. */
  drop(): void {
    if (this.batch) this.pool.give([this.batch.buffer])
    this.batch = null
    this.filled = 0
  }
}
