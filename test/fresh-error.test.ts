/** A Save refusal shown only while the field still sends what was refused; failed rows named in it. */
import { describe, expect, test } from '@jest/globals'
import { freshError, type Seen } from '../components/fresh-error.js'
import { refusalText, saveRefusal } from '../components/upload-messages.js'
import type { T } from '../components/i18n.js'
import { de } from '../src/locale/de.js'
import { en } from '../src/shared/locale-en.js'

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

/** The German table as AdminJS's `tm` reads it (`resumable.x.y`), English where it has no text. */
const tmDe: T = (key, fallback, vars) => {
  const found = key.split('.').slice(1).reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], de.messages.resumable)
  return tm(key, typeof found === 'string' ? found : fallback, vars)
}
const NOT_FINISHED = { message: en.messages.resumable.saveRefusals.unfinished, type: 'resumable.saveRefusals.unfinished' }
const FAILED_ROW = { message: en.messages.resumable.saveRefusals.failedRow, type: 'resumable.saveRefusals.failedRow' }
const FAILED_ROW_RETRYABLE = { message: en.messages.resumable.saveRefusals.failedRowRetry, type: 'resumable.saveRefusals.failedRowRetry' }

describe('saveRefusal', () => {
  test('names a row Retry cannot help and says only to remove it, in English and German', () => {
    const rows = [{ name: 'evil.png', retryable: false }]
    const text = saveRefusal(NOT_FINISHED, rows, tm)
    expect(text).toBe('Not saved: evil.png could not be uploaded. Remove it from the list, then save again.')
    expect(saveRefusal(NOT_FINISHED, rows, tmDe)).toBe('Nicht gespeichert: evil.png konnte nicht hochgeladen werden. Entfernen Sie die Datei aus der Liste und speichern Sie dann noch einmal.')
  })

  test('offers Retry only when it can finish every failed row', () => {
    const retryable = [{ name: 'a.png', retryable: true }, { name: 'b.png', retryable: true }]
    expect(saveRefusal(NOT_FINISHED, retryable, tm)).toBe('Not saved: a.png, b.png could not be uploaded. Retry it or remove it from the list, then save again.')
    expect(saveRefusal(NOT_FINISHED, retryable, tmDe)).toMatch(/^Nicht gespeichert: a\.png, b\.png .* Versuchen Sie es erneut oder entfernen/)
    const mixed = [{ name: 'a.png', retryable: true }, { name: 'evil.png', retryable: false }]
    expect(saveRefusal(NOT_FINISHED, mixed, tm)).not.toMatch(/retry/i)
    expect(saveRefusal(NOT_FINISHED, mixed, tmDe)).not.toMatch(/erneut/)
  })

  test('without failed rows the server\'s words stay, in the admin\'s language when they are the feature\'s own', () => {
    const hook = { message: 'Scanned: infected.', type: 'resumable' }
    expect(saveRefusal(hook, [], tm)).toBe('Scanned: infected.')
    expect(saveRefusal(hook, [], tmDe)).toBe('Scanned: infected.')
    expect(saveRefusal(FAILED_ROW, [], tm)).toBe(FAILED_ROW.message)
    expect(FAILED_ROW.message).not.toMatch(/retry/i)
    expect(FAILED_ROW_RETRYABLE.message).toMatch(/retry it or remove it/)
    expect(saveRefusal(FAILED_ROW, [], tmDe)).toBe(de.messages.resumable.saveRefusals.failedRow)
    expect(saveRefusal(FAILED_ROW_RETRYABLE, [], tmDe)).toBe(de.messages.resumable.saveRefusals.failedRowRetry)
    expect(saveRefusal(NOT_FINISHED, [], tmDe)).toBe(de.messages.resumable.saveRefusals.unfinished)
    expect(refusalText(NOT_FINISHED, tm)).toBe(NOT_FINISHED.message)
  })
})
