/** Where focus goes after a phase change (components/focus.ts); the browser test checks it live. */
import { describe, expect, test } from '@jest/globals'
import { focusTargets, type FocusSnapshot } from '../components/focus.js'
import type { Phase } from '../components/upload-state.js'

const at = (phase: Phase, cleared = false): FocusSnapshot => ({ phase, cleared })

describe('focusTargets', () => {
  test('nothing changed: focus stays where it is', () => {
    expect(focusTargets(at('uploading'), at('uploading'))).toBeNull()
  })
  test.each([
    ['idle', 'uploading', 'resumable-pause'],
    ['uploading', 'paused', 'resumable-resume'],
    ['paused', 'uploading', 'resumable-pause'],
    ['uploading', 'complete', 'resumable-status'],
    ['uploading', 'failed', 'resumable-retry'],
    ['uploading', 'auth-required', 'resumable-retry'],
    ['uploading', 'expired', 'resumable-retry'],
    ['idle', 'refused', 'resumable-retry'],
    ['complete', 'idle', 'resumable-dropzone'],
    ['paused', 'idle', 'resumable-dropzone'],
  ] as Array<[Phase, Phase, string]>)('%s → %s: %s first', (from, to, first) => {
    expect(focusTargets(at(from), at(to))?.[0]).toBe(first)
  })
  test('an error without a Retry button falls back to the error message', () => {
    expect(focusTargets(at('idle'), at('refused'))).toEqual(['resumable-retry', 'resumable-error'])
  })
  test('Remove leads to Undo and back', () => {
    expect(focusTargets(at('idle'), at('idle', true))).toEqual(['resumable-undo'])
    expect(focusTargets(at('idle', true), at('idle'))).toEqual(['resumable-clear'])
  })
})
