/**
 * Every text the components show goes through AdminJS's translate functions with a key the
 * feature's English table has (and the same English as the call's fallback), German has every key
 * with the same placeholders, no JSX holds a bare word, and the tables reach AdminJS's i18next.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from '@jest/globals'
import { createFunctions } from 'adminjs'
import i18next from 'i18next'
import ts from 'typescript'
import { withFallback } from '../components/i18n.js'
import { ERROR_TEXT } from '../components/upload-messages.js'
import { ERROR_CODES } from '../src/shared/error-codes.js'
import { resumableLocales, withResumableLocales } from '../src/locale/index.js'

const COMPONENTS = join(process.cwd(), 'components')
const sources = readdirSync(COMPONENTS).filter((f) => /\.tsx?$/.test(f)).map((f) => ({ file: f, text: readFileSync(join(COMPONENTS, f), 'utf8') }))

/** `{ a: { b: 'x' } }` → `{ 'a.b': 'x' }` */
function flatten(value: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (typeof value === 'string') out[prefix] = value
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out)
  }
  return out
}

const placeholders = (text: string): string[] => [...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort()
const en = flatten(resumableLocales.en)
const de = flatten(resumableLocales.de)
const NAMESPACE: Record<string, string> = { tm: 'messages', tb: 'buttons', tl: 'labels' }

/** Every `tm('key', 'fallback'…)`, `tb(…)`, `tl(…)` with literal arguments in the components. */
function calls(): Array<{ where: string; fn: string; key: string; fallback: string }> {
  const found: Array<{ where: string; fn: string; key: string; fallback: string }> = []
  for (const { file, text } of sources) {
    for (const m of text.matchAll(/\b(tm|tb|tl)\(\s*'([^']+)'\s*,\s*'((?:[^'\\]|\\.)*)'/g)) {
      found.push({ where: `${file}: ${m[2]}`, fn: m[1], key: m[2], fallback: m[3].replace(/\\'/g, "'") })
    }
  }
  return found
}

describe('the tables', () => {
  test('German has exactly the English keys, each with the same placeholders, none empty', () => {
    expect(Object.keys(de).sort()).toEqual(Object.keys(en).sort())
    for (const key of Object.keys(en)) {
      expect([key, placeholders(de[key])]).toEqual([key, placeholders(en[key])])
      expect([key, de[key].trim().length > 0]).toEqual([key, true])
    }
  })

  test('German is German: no text is left in English', () => {
    const same = Object.keys(en).filter((key) => en[key] === de[key])
    expect(same).toEqual([])
  })

  test('every error code the route sends has a headline, in both tables, equal to the component\'s fallback', () => {
    for (const code of ERROR_CODES) {
      expect([code, en[`messages.resumable.errors.${code}`]]).toEqual([code, ERROR_TEXT[code]])
      expect(de[`messages.resumable.errors.${code}`]).toBeTruthy()
    }
  })
})

describe('the components', () => {
  test('every translate call names a key of the English table, in its namespace, with that English as fallback', () => {
    const found = calls()
    expect(found.length).toBeGreaterThan(30)
    for (const call of found) {
      const path = `${NAMESPACE[call.fn]}.${call.key}`
      expect([call.where, path in en]).toEqual([call.where, true])
      expect([call.where, call.fallback]).toEqual([call.where, en[path]])
    }
  })

  test('every key of the English table is used by a component', () => {
    const used = new Set(calls().map((c) => `${NAMESPACE[c.fn]}.${c.key}`))
    for (const code of ERROR_CODES) used.add(`messages.resumable.errors.${code}`)
    // The server's Save refusals name their key on the record's error; the components look it up there.
    for (const name of Object.keys(resumableLocales.en.messages.resumable.saveRefusals)) used.add(`messages.resumable.saveRefusals.${name}`)
    expect(Object.keys(en).filter((key) => !used.has(key))).toEqual([])
  })

  test('no JSX shows a literal word: text, visible attributes and string children go through the translate functions', () => {
    const VISIBLE = new Set(['alt', 'title', 'aria-label', 'aria-valuetext', 'placeholder', 'message', 'label'])
    const words = /\p{L}{2,}/u
    const offenders: string[] = []
    for (const { file, text } of sources.filter((s) => s.file.endsWith('.tsx'))) {
      const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX)
      const visit = (node: ts.Node): void => {
        if (ts.isJsxText(node) && words.test(node.text)) offenders.push(`${file}: text "${node.text.trim()}"`)
        if (ts.isJsxAttribute(node) && VISIBLE.has(node.name.getText()) && node.initializer) {
          const init = node.initializer
          const literal = ts.isStringLiteral(init) ? init
            : ts.isJsxExpression(init) && init.expression && ts.isStringLiteralLike(init.expression) ? init.expression : null
          if (literal && words.test(literal.text)) offenders.push(`${file}: ${node.name.getText()}="${literal.text}"`)
        }
        if (ts.isJsxExpression(node) && node.expression && ts.isStringLiteralLike(node.expression)
          && ts.isJsxElement(node.parent) && words.test(node.expression.text)) {
          offenders.push(`${file}: child "${node.expression.text}"`)
        }
        ts.forEachChild(node, visit)
      }
      visit(source)
    }
    expect(offenders).toEqual([])
  })
})

describe('through AdminJS\'s translate functions', () => {
  async function translator(language: string) {
    const locale = withResumableLocales({ language, availableLanguages: ['en', 'de'] })
    const instance = i18next.createInstance()
    await instance.init({
      lng: language,
      fallbackLng: language,
      interpolation: { escapeValue: false },
      resources: Object.fromEntries(Object.entries(locale.translations).map(([lang, table]) => [lang, { translation: table as Record<string, string> }])),
    })
    const { translateMessage, translateButton } = createFunctions(instance)
    type Fn = Parameters<typeof withFallback>[0]
    return { tm: withFallback(translateMessage as Fn, 'Document'), tb: withFallback(translateButton as Fn, 'Document') }
  }

  test('German answers in German, with the placeholders filled', async () => {
    const { tm, tb } = await translator('de')
    expect(tm('resumable.uploading', 'Uploading…')).toBe('Wird hochgeladen …')
    expect(tm('resumable.tooLarge', 'The file is too large: at most {{max}} allowed.', { max: '1 MiB' })).toBe('Die Datei ist zu groß: höchstens 1 MiB erlaubt.')
    expect(tb('resumable.pause', 'Pause')).toBe('Anhalten')
    expect(tm('resumable.errors.type_not_allowed', ERROR_TEXT.type_not_allowed)).toBe('Der Server nimmt diesen Dateityp nicht an.')
  })

  test('English answers in English; an unknown key falls back to the call\'s text', async () => {
    const { tm } = await translator('en')
    expect(tm('resumable.paused', 'Paused')).toBe('Paused')
    expect(tm('resumable.notAKey', 'Fallback {{n}}', { n: 3 })).toBe('Fallback 3')
  })

  test('the app\'s own wording wins; languages the app does not use are not added', () => {
    const locale = withResumableLocales({
      language: 'de',
      translations: { de: { messages: { resumable: { paused: 'Pause' } }, labels: { Document: 'Dokumente' } } },
    })
    const table = flatten(locale.translations)
    expect(table['de.messages.resumable.paused']).toBe('Pause')
    expect(table['de.messages.resumable.uploading']).toBe('Wird hochgeladen …')
    expect(table['de.labels.Document']).toBe('Dokumente')
    expect(Object.keys(locale.translations)).toEqual(['de'])
    expect(Object.keys(withResumableLocales().translations)).toEqual(['en'])
  })

  test('both languages offered: each table carries the feature\'s own words, the app\'s labels stay the app\'s', () => {
    const locale = withResumableLocales({
      language: 'de',
      availableLanguages: ['en', 'de'],
      translations: { de: { resources: { Document: { properties: { file: 'Datei' } } } } },
    })
    expect(locale.language).toBe('de')
    expect(locale.availableLanguages).toEqual(['en', 'de'])
    const table = flatten(locale.translations)
    expect(table['de.messages.resumable.uploading']).toBe('Wird hochgeladen …')
    expect(en['messages.resumable.uploading']).toBeTruthy()
    expect(table['en.messages.resumable.uploading']).toBe(en['messages.resumable.uploading'])
    expect(table['de.resources.Document.properties.file']).toBe('Datei')
    expect(table['en.resources.Document.properties.file']).toBeUndefined()
  })
})
