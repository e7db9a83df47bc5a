/** components/progress-throttle.ts: progress drawn at most once per interval, the last report never lost. */
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals'
import { ProgressThrottle } from '../components/progress-throttle.js'

let now = 0
let draws: number[] = []
const throttle = (): ProgressThrottle => new ProgressThrottle(() => { draws.push(now) }, 250, () => now)
/** Moves the clock and runs the timers due by then. */
function advance(ms: number): void {
  now += ms
  jest.advanceTimersByTime(ms)
}

beforeEach(() => {
  jest.useFakeTimers()
  now = 1000
  draws = []
})
afterEach(() => { jest.useRealTimers() })

describe('ProgressThrottle', () => {
  test('the first report draws at once; a burst inside the interval draws once more, at its end', () => {
    const t = throttle()
    t.request()
    expect(draws).toEqual([1000])
    for (let i = 0; i < 50; i += 1) {
      advance(4)
      t.request()
    }
    // 50 reports in 200 ms: none drawn yet, one pending for the end of the interval.
    expect(draws).toEqual([1000])
    advance(50)
    expect(draws).toEqual([1000, 1250])
    advance(1000)
    expect(draws).toEqual([1000, 1250])
  })

  test('reports at 1 ms intervals for 2 s draw at most 4 times a second', () => {
    const t = throttle()
    for (let i = 0; i < 2000; i += 1) {
      t.request()
      advance(1)
    }
    advance(250)
    expect(draws.length).toBeLessThanOrEqual(9)
    for (let i = 1; i < draws.length; i += 1) expect(draws[i] - draws[i - 1]).toBeGreaterThanOrEqual(250)
  })

  test('flushNow draws at once and drops the pending draw; cancel drops it without drawing', () => {
    const t = throttle()
    t.request()
    advance(10)
    t.request()
    t.flushNow()
    expect(draws).toEqual([1000, 1010])
    advance(500)
    expect(draws).toEqual([1000, 1010])
    t.request()
    advance(10)
    t.request()
    t.cancel()
    advance(500)
    expect(draws).toEqual([1000, 1010, 1510])
  })

  test('after reset the next report draws at once', () => {
    const t = throttle()
    t.request()
    advance(10)
    t.reset()
    t.request()
    expect(draws).toEqual([1000, 1010])
  })
})
