/** The edit component's upload state machine (components/upload-state.ts), event by event. */
import { describe, expect, test } from '@jest/globals'
import { ERROR_CODE } from '../src/shared/error-codes.js'
import {
  INITIAL_STATE, NO_PROGRESS, uploadReducer, type UploadEvent, type UploadState,
} from '../components/upload-state.js'

const run = (events: UploadEvent[], from: UploadState = INITIAL_STATE): UploadState => events.reduce(uploadReducer, from)
const added: UploadEvent = { type: 'added', name: 'big.bin', size: 1000 }
const progress = (percent: number, chunkSucceeded = false): UploadEvent => (
  { type: 'progress', progress: { percent, bytes: percent * 10, speed: 5, eta: 3 }, chunkSucceeded })

describe('uploadReducer', () => {
  test('idle → uploading → complete, with progress on the way and 100 % only at the end', () => {
    const uploading = run([added, progress(40)])
    expect(uploading).toMatchObject({ phase: 'uploading', file: { name: 'big.bin', size: 1000 }, progress: { percent: 40, bytes: 400 } })
    expect(run([{ type: 'complete' }], uploading)).toMatchObject({
      phase: 'complete', progress: { percent: 100, bytes: 1000, speed: 0, eta: 0 }, error: null,
    })
  })

  test('uploading ⇄ paused: pausing zeroes the speed and the time left; pause and resume do nothing elsewhere', () => {
    const paused = run([added, progress(40), { type: 'pause' }])
    expect(paused).toMatchObject({ phase: 'paused', progress: { percent: 40, speed: 0, eta: undefined } })
    expect(run([{ type: 'resume' }], paused).phase).toBe('uploading')
    expect(run([{ type: 'pause' }])).toBe(INITIAL_STATE)
    expect(run([{ type: 'resume' }], run([added])).phase).toBe('uploading')
    expect(run([{ type: 'pause' }], run([added, { type: 'complete' }])).phase).toBe('complete')
  })

  test('all chunks in without a reference: finishing, then complete or unconfirmed (retryable)', () => {
    const finishing = run([added, { type: 'finishing' }])
    expect(finishing.phase).toBe('finishing')
    expect(run([{ type: 'pause' }], finishing).phase).toBe('finishing')
    expect(run([{ type: 'complete' }], finishing).phase).toBe('complete')
    const unconfirmed = run([{ type: 'unconfirmed' }], finishing)
    expect(unconfirmed).toMatchObject({ phase: 'failed', error: { kind: 'unconfirmed' } })
    expect(run([{ type: 'retry' }], unconfirmed)).toMatchObject({ phase: 'uploading', error: null })
  })

  test.each([
    [ERROR_CODE.notAuthenticated, 'auth-required', { kind: 'auth' }],
    [ERROR_CODE.expired, 'expired', { kind: 'expired', message: 'm' }],
    [ERROR_CODE.storageFailure, 'failed', { kind: 'server', code: 'storage_failure', message: 'm', retryable: true }],
    [undefined, 'failed', { kind: 'server', code: undefined, message: 'm', retryable: true }],
    [ERROR_CODE.conflict, 'failed', { kind: 'server', code: 'conflict', message: 'm', retryable: false }],
    [ERROR_CODE.tooLarge, 'failed', { kind: 'server', code: 'too_large', message: 'm', retryable: false }],
  ])('a failure with code %j ends in %j', (code, phase, error) => {
    const failed = run([added, progress(10), { type: 'chunkRetry' }, { type: 'failed', code, message: 'm' }])
    expect(failed).toMatchObject({ phase, error })
    // Retry takes the same upload up again.
    expect(run([{ type: 'retry' }], failed)).toMatchObject({ phase: 'uploading', error: null, retries: 0, file: { name: 'big.bin' } })
  })

  test('a failure reported once nothing is active is ignored, and retry does nothing outside a failure', () => {
    expect(run([{ type: 'failed', code: ERROR_CODE.forbidden }])).toBe(INITIAL_STATE)
    const complete = run([added, { type: 'complete' }])
    expect(run([{ type: 'failed', code: ERROR_CODE.forbidden }], complete)).toBe(complete)
    expect(run([{ type: 'retry' }], complete)).toBe(complete)
  })

  test('chunk retries count up while active and start over when a chunk succeeds', () => {
    const retrying = run([added, { type: 'chunkRetry' }, { type: 'chunkRetry' }, progress(10)])
    expect(retrying.retries).toBe(2)
    expect(run([progress(20, true)], retrying).retries).toBe(0)
    expect(run([{ type: 'chunkRetry' }]).retries).toBe(0)
  })

  test('a refused file: its own phase when nothing runs; a running upload goes on with the message', () => {
    const problem = { code: 'too_large', maxSize: 10 } as const
    expect(run([{ type: 'refused', problem }])).toMatchObject({ phase: 'refused', error: { kind: 'validation', problem } })
    expect(run([added, { type: 'pause' }, { type: 'refused', problem }])).toMatchObject({ phase: 'paused', error: { kind: 'validation' } })
    // The next file clears it.
    expect(run([{ type: 'refused', problem }, { type: 'reset' }, added])).toMatchObject({ phase: 'uploading', error: null })
  })

  test('an expired upload restarting keeps its notice through the new file; a failure or completion ends it', () => {
    const restarted = run([added, { type: 'restarting' }, added])
    expect(restarted).toMatchObject({ phase: 'uploading', restarting: true, progress: NO_PROGRESS })
    expect(run([{ type: 'complete' }], restarted).restarting).toBe(false)
    expect(run([{ type: 'failed', code: ERROR_CODE.expired }], restarted)).toMatchObject({ phase: 'expired', restarting: false })
    expect(run([{ type: 'reset' }, added], restarted).restarting).toBe(false)
  })

  test('clear marks the stored file for removal; it survives new uploads and cancels; a complete upload is dropped', () => {
    const cleared = run([{ type: 'clear' }])
    expect(cleared).toMatchObject({ phase: 'idle', cleared: true })
    expect(run([added, { type: 'reset' }], cleared).cleared).toBe(true)
    expect(run([added, { type: 'complete' }, { type: 'clear' }])).toEqual({ ...INITIAL_STATE, cleared: true })
    expect(run([added, { type: 'clear' }])).toMatchObject({ phase: 'uploading', cleared: true })
    expect(run([{ type: 'undoClear' }], cleared).cleared).toBe(false)
  })

  test('reset (cancel, or another file) returns to idle from anywhere', () => {
    for (const events of [[added], [added, { type: 'pause' }], [added, { type: 'complete' }], [added, { type: 'failed' }]] as UploadEvent[][]) {
      expect(run([...events, { type: 'reset' }])).toEqual(INITIAL_STATE)
    }
  })
})
