/** The person's order of a `multiple` property's files (components/file-order.ts) and the slots it gives. */
import { describe, expect, test } from '@jest/globals'
import { arrange, keptId, move, moveTo, newId } from '../components/file-order.js'
import { formSlots, type ListEntry } from '../components/upload-list-state.js'
import { INITIAL_STATE } from '../components/upload-state.js'

const done = (id: string, reference: string): ListEntry => ({ id, reference, state: { ...INITIAL_STATE, phase: 'complete' } })

describe('file order', () => {
  test('arrange keeps the arranged ids first, appends new ones, drops gone ones', () => {
    expect(arrange(['c', 'x', 'a'], ['a', 'b', 'c'])).toEqual(['c', 'a', 'b'])
  })

  test('move by one place, clamped at both ends; moveTo puts a dragged id where another is', () => {
    const ids = ['a', 'b', 'c']
    expect(move([], ids, 'c', -1)).toEqual(['a', 'c', 'b'])
    expect(move([], ids, 'a', -1)).toEqual(['a', 'b', 'c'])
    expect(move(['a', 'c', 'b'], ids, 'b', 1)).toEqual(['a', 'c', 'b'])
    expect(moveTo([], ids, 'c', 'a')).toEqual(['c', 'a', 'b'])
  })

  test('the form slots follow the order across kept files and new uploads', () => {
    const entries = [done('u1', 'r'.repeat(40)), { id: 'u2', state: { ...INITIAL_STATE, phase: 'uploading' } } as ListEntry]
    expect(formSlots(['k1', 'k2'], entries)).toEqual(['__keep__:k1', '__keep__:k2', 'r'.repeat(40), '__pending__'])
    const ids = [keptId('k1'), keptId('k2'), newId('u1'), newId('u2')]
    const order = move([], ids, newId('u1'), -1)
    expect(formSlots(['k1', 'k2'], entries, order)).toEqual(['__keep__:k1', 'r'.repeat(40), '__keep__:k2', '__pending__'])
  })
})
