/** What the server holds apart from what is in flight (components/transfer.ts), and the speed window (format.ts). */
import { describe, expect, test } from '@jest/globals'
import { SpeedMeter } from '../components/format.js'
import { bytesHeld, bytesSent, type ChunkView } from '../components/transfer.js'
import { heldPercent, heldText } from '../components/upload-messages.js'
import { INITIAL_STATE, type UploadState } from '../components/upload-state.js'
import type { T } from '../components/i18n.js'

const MiB = 1024 * 1024
const chunk = (i: number, status: ReturnType<ChunkView['status']>, loaded = 0): ChunkView => ({
  startByte: i * 5 * MiB, endByte: (i + 1) * 5 * MiB, loaded, status: () => status,
})
const tm: T = (_key, fallback, vars) => fallback.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => String(vars?.[name] ?? ''))

describe('held and sent bytes', () => {
  test('34 % of a 30 MB file with three chunks in flight and none finished: nothing is held', () => {
    const chunks = [chunk(0, 'uploading', 4 * MiB), chunk(1, 'uploading', 3.5 * MiB), chunk(2, 'uploading', 2.7 * MiB), chunk(3, 'pending'), chunk(4, 'pending'), chunk(5, 'pending')]
    expect(bytesHeld(chunks)).toBe(0)
    expect(bytesSent(chunks)).toBeCloseTo(10.2 * MiB)
    const state: UploadState = { ...INITIAL_STATE, phase: 'uploading', file: { name: 'big.bin', size: 30 * MiB }, progress: { percent: 34, bytes: 10.2 * MiB, held: 0, speed: 0 } }
    expect(heldPercent(state, 30 * MiB)).toBe(0)
    expect(heldText(state, 5 * MiB, tm)).toBe('Nothing is kept on the server until the first part (5.00 MiB) is complete.')
  })

  test('chunks the server already had (test GET, nothing sent) are held but not sent: no burst of speed after a reload', () => {
    const chunks = [chunk(0, 'success'), chunk(1, 'success'), chunk(2, 'success', 5 * MiB), chunk(3, 'uploading', MiB)]
    expect(bytesHeld(chunks)).toBe(15 * MiB)
    expect(bytesSent(chunks)).toBe(6 * MiB)
    const state: UploadState = { ...INITIAL_STATE, phase: 'paused', file: { name: 'big.bin', size: 30 * MiB }, progress: { percent: 53, bytes: 16 * MiB, held: 15 * MiB, speed: 0 } }
    expect(heldPercent(state, 30 * MiB)).toBe(50)
    expect(heldText(state, 5 * MiB, tm)).toBe('Kept on the server: 15.0 MiB — a reload continues from there.')
  })
})

describe('SpeedMeter', () => {
  test('no speed until the samples span two seconds, then the rate over the moving window', () => {
    const meter = new SpeedMeter(5000, 2000)
    meter.add(0, 0)
    meter.add(20 * MiB, 300)
    // A burst right after a start says nothing yet.
    expect(meter.speed(300)).toBe(0)
    expect(meter.eta(10 * MiB, 300)).toBeUndefined()
    meter.add(22 * MiB, 2000)
    expect(meter.speed(2000)).toBeGreaterThan(0)
    // Later samples push the burst out of the five-second window: the steady 1 MiB/s remains.
    for (let t = 3000; t <= 9000; t += 1000) meter.add(22 * MiB + ((t - 2000) / 1000) * MiB, t)
    expect(meter.speed(9000) / MiB).toBeCloseTo(1, 1)
    expect(meter.eta(7 * MiB, 9000)).toBeCloseTo(7, 0)
  })
})
