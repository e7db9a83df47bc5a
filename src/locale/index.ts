/**
 * The feature's translations for AdminJS's `locale` option. The components ask for their texts
 * with AdminJS's translate functions (`messages.resumable.*`, `buttons.resumable.*`); these tables
 * answer them, in English and German.
 */
import { de } from './de.js'
import { en, type ResumableTranslation } from './en.js'

export type { ResumableTranslation } from './en.js'

/** Every language the feature ships, keyed as AdminJS's `locale.translations` is. */
export const resumableLocales: Readonly<Record<'en' | 'de', ResumableTranslation>> = { en, de }

/** The subset of AdminJS's `Locale` that this helper reads and returns (the rest is passed on). */
export interface LocaleOption {
  language: string
  availableLanguages?: string[]
  translations?: Record<string, Record<string, unknown>>
  [option: string]: unknown
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Deep merge where `over` wins: the app's own wording replaces ours key by key. */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(over)) {
    out[key] = isObject(value) && isObject(out[key]) ? merge(out[key] as Record<string, unknown>, value) : value
  }
  return out
}

/**
 * Adds the feature's translations to an AdminJS `locale` option, for every language it ships that
 * the app uses (its `language` and `availableLanguages`); the app's own translations win.
 *
 *   new AdminJS({ locale: withResumableLocales({ language: 'de', availableLanguages: ['en', 'de'] }) })
 */
export function withResumableLocales<L extends LocaleOption>(locale?: L): L & { translations: Record<string, Record<string, unknown>> } {
  const base = (locale ?? { language: 'en' }) as L
  const languages = new Set([base.language, ...(base.availableLanguages ?? [])])
  const translations: Record<string, Record<string, unknown>> = { ...(base.translations ?? {}) }
  for (const [language, table] of Object.entries(resumableLocales)) {
    if (!languages.has(language)) continue
    translations[language] = merge(table as unknown as Record<string, unknown>, translations[language] ?? {})
  }
  return { ...base, translations }
}
