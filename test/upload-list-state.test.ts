/** The list of uploads of a `multiple` property (components/upload-list-state.ts) and its form slots. */
import { describe, expect, test } from '@jest/globals'
import { uploadListReducer, formSlots, anyActive, type ListEntry, type ListEvent } from '../components/upload-list-state.js'

const run = (events: ListEvent[], from: ListEntry[] = []): ListEntry[] => events.reduce(uploadListReducer, from)
const added = (id: string, relativePath?: string): ListEvent => ({ type: 'file', id, event: { type: 'added', name: `${id}.png`, size: 10 }, relativePath })
const ref = (n: string) => n.repeat(40)

describe('uploadListReducer', () => {
  test('each file has its own state, in the order added; events of one file leave the others alone', () => {
    const list = run([
      added('a'), added('b', 'holiday/b.png'),
      { type: 'file', id: 'a', event: { type: 'pause' } },
      { type: 'file', id: 'b', event: { type: 'complete' } },
      { type: 'reference', id: 'b', reference: ref('b') },
    ])
    expect(list.map((e) => [e.id, e.state.phase, e.reference ?? null, e.relativePath ?? null])).toEqual([
      ['a', 'paused', null, null],
      ['b', 'complete', ref('b'), 'holiday/b.png'],
    ])
    expect(anyActive(list)).toBe(true)
    expect(anyActive(run([{ type: 'remove', id: 'a' }], list))).toBe(false)
  })

  test('events of a removed or unknown file are dropped; adding it again starts afresh', () => {
    const list = run([added('a'), { type: 'remove', id: 'a' }, { type: 'file', id: 'a', event: { type: 'complete' } }])
    expect(list).toEqual([])
    const again = run([added('a'), { type: 'file', id: 'a', event: { type: 'complete' } }, { type: 'reference', id: 'a', reference: ref('a') }, added('a')])
    expect(again).toHaveLength(1)
    expect(again[0].state.phase).toBe('uploading')
    expect(again[0].reference).toBeUndefined()
  })
})

describe('formSlots', () => {
  test('kept files first as keep markers, then complete uploads by reference, unfinished ones as pending, failed ones as failed (retryable or not)', () => {
    const list = run([
      added('a'), { type: 'file', id: 'a', event: { type: 'complete' } }, { type: 'reference', id: 'a', reference: ref('a') },
      added('b'),
      added('c'), { type: 'file', id: 'c', event: { type: 'failed', code: 'storage_failure' } },
      added('d'), { type: 'file', id: 'd', event: { type: 'failed', code: 'type_not_allowed' } },
    ])
    expect(formSlots(['galleries/1/x.png'], list)).toEqual(['__keep__:galleries/1/x.png', ref('a'), '__pending__', '__failed_retryable__', '__failed__'])
  })

  test('nothing kept and nothing uploaded is an explicit clear', () => {
    expect(formSlots([], [])).toBe('__clear__')
  })
})
