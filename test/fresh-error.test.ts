/** A Save refusal shown only while the field still sends what was refused; failed rows named in it. */
import { describe, expect, test } from '@jest/globals'
import { freshError, type Seen } from '../components/fresh-error.js'
import { saveRefusal } from '../components/upload-messages.js'
import type { T } from '../components/i18n.js'

const tm: T = (_key, fallback, vars) => fallback.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => String(vars?.[name] ?? ''))

describe('freshError', () => {
  const refused = { message: 'The upload has not finished yet' }

  test('an error is shown until the value changes, then stays hidden even if the value comes back', () => {
    let seen: Seen<typeof refused> | null = null
    const step = (error: typeof refused | undefined, value: string) => {
      const out = freshError(seen, error, value)
      seen = out.seen
      return out.shown
    }
    expect(step(refused, 'paused|__pending__')).toBe(refused)
    expect(step(refused, 'paused|__pending__')).toBe(refused)
    expect(step(refused, 'complete|abc')).toBeNull()
    expect(step(refused, 'paused|__pending__')).toBeNull()
  })

  test('a new refusal (another Save) is shown again; no error shows nothing', () => {
    const first = freshError(null, refused, 'a')
    const changed = freshError(first.seen, refused, 'b')
    expect(changed.shown).toBeNull()
    const again = { ...refused }
    expect(freshError(changed.seen, again, 'b').shown).toBe(again)
    expect(freshError(changed.seen, undefined, 'b')).toEqual({ shown: null, seen: null })
  })
})

describe('saveRefusal', () => {
  test('names the failed rows and says to remove them instead of "wait"', () => {
    const text = saveRefusal('The upload has not finished yet: wait until it completes, then save again.', ['evil.png'], tm)
    expect(text).toContain('evil.png')
    expect(text).toMatch(/Remove it/)
    expect(text).not.toMatch(/wait/)
  })

  test('without failed rows the server\'s own message stays', () => {
    expect(saveRefusal('At least one file is required here.', [], tm)).toBe('At least one file is required here.')
  })
})
