/**
 * components/file-progress.ts: what a progress event costs, and when a draw says that a chunk
 * succeeded since the last one (which clears the bar's retry count).
 */
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals'
import { FileProgress } from '../components/file-progress.js'
import type { ResumableFile } from '../components/resumable-types.js'
import type { Progress } from '../components/upload-state.js'

type Status = 'pending' | 'uploading' | 'success' | 'error'

/** A file of `count` 1 MiB chunks whose statuses the test sets, counting every status() call. */
function fakeFile(count: number) {
  const statuses: Status[] = Array.from({ length: count }, () => 'pending')
  let statusCalls = 0
  const chunks = statuses.map((_, i) => ({
    startByte: i * 1024 * 1024,
    endByte: (i + 1) * 1024 * 1024,
    loaded: 0,
    status: () => { statusCalls++; return statuses[i]! },
  }))
  const file = {
    size: count * 1024 * 1024,
    chunks,
    progress: () => statuses.filter((s) => s === 'success').length / count,
  } as unknown as ResumableFile
  return { file, statuses, calls: () => statusCalls }
}

let draws: Array<{ progress: Progress, chunkSucceeded: boolean }>

beforeEach(() => {
  jest.useFakeTimers()
  draws = []
})
afterEach(() => { jest.useRealTimers() })

describe('FileProgress', () => {
  test('a progress event walks no chunk: thousands of events on a file of 2000 chunks call status() only when drawing', () => {
    const { file, statuses, calls } = fakeFile(2000)
    const progress = new FileProgress(() => file, (p, s) => { draws.push({ progress: p, chunkSucceeded: s }) })
    progress.startFile()
    for (let n = 0; n < 2000; n++) {
      statuses[n] = 'success'
      for (let event = 0; event < 3; event++) progress.progressed()
    }
    // One draw at once, one pending for the end of the interval: no status() call per event.
    expect(draws).toHaveLength(1)
    expect(calls()).toBeLessThanOrEqual(4 * 2000)
    jest.advanceTimersByTime(300)
    expect(draws).toHaveLength(2)
    expect(calls()).toBeLessThanOrEqual(8 * 2000)
    expect(draws[1]!.chunkSucceeded).toBe(true)
  })

  test('a draw says a chunk succeeded only when one did since the last draw', () => {
    const { file, statuses } = fakeFile(4)
    const progress = new FileProgress(() => file, (p, s) => { draws.push({ progress: p, chunkSucceeded: s }) })
    progress.startFile()
    statuses[0] = 'uploading'
    progress.progressed()
    expect(draws.map((d) => d.chunkSucceeded)).toEqual([false])
    statuses[0] = 'success'
    jest.advanceTimersByTime(300)
    progress.progressed()
    expect(draws.map((d) => d.chunkSucceeded)).toEqual([false, true])
    jest.advanceTimersByTime(300)
    progress.progressed()
    expect(draws.map((d) => d.chunkSucceeded)).toEqual([false, true, false])
  })

  test('a success not drawn yet is drawn before a retry is shown; with none, a retry draws nothing', () => {
    const { file, statuses } = fakeFile(4)
    const progress = new FileProgress(() => file, (p, s) => { draws.push({ progress: p, chunkSucceeded: s }) })
    progress.startFile()
    progress.progressed()
    expect(draws).toHaveLength(1)
    statuses[1] = 'success'
    progress.progressed()
    progress.beforeRetry()
    expect(draws.map((d) => d.chunkSucceeded)).toEqual([false, true])
    progress.beforeRetry()
    expect(draws).toHaveLength(2)
  })
})
