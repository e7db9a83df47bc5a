import { useMemo } from 'react'
import { useTranslation } from 'adminjs'

export type Vars = Record<string, string | number>

export type T = (key: string, fallback: string, vars?: Vars) => string

type TranslateFn = (key: string, resourceId?: string | Record<string, unknown>, options?: Record<string, unknown>) => string

function interpolate(text: string, vars?: Vars): string {
  if (!vars) return text
  return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (match, name: string) => (name in vars ? String(vars[name]) : match))
}

/** One of AdminJS's translate functions, with our English fallback when the key is unknown. */
export function withFallback(fn: TranslateFn, resourceId: string | undefined): T {
  return (key, fallback, vars) => {
    let value: unknown
    try {
      value = fn(key, resourceId, { defaultValue: fallback, ...vars })
    } catch {
      value = undefined
    }
    // translateMessage returns the key itself when nothing is found: use the English fallback.
    if (typeof value !== 'string' || value === '' || value === key || value.endsWith(`.${key}`)) {
      return interpolate(fallback, vars)
    }
    return interpolate(value, vars)
  }
}

/**
 * Translation helpers with English fallbacks. Keys are prefixed `resumable.`; they are looked up
 * by AdminJS in `resources.<id>.<kind>.resumable.*`, then `<kind>.resumable.*`
 * (kind = messages, labels or buttons).
 */
export function useResumableTranslation(resourceId?: string): { tm: T; tl: T; tb: T } {
  const { i18n, translateLabel, translateMessage, translateButton } = useTranslation()
  const language = i18n.language
  // AdminJS makes these functions anew on every render, each reading `i18n` when called: the same
  // ones are kept while the language is, so that parts given them (React.memo) are not drawn again
  // on every progress draw of an upload.
  return useMemo(() => ({
    tm: withFallback(translateMessage as TranslateFn, resourceId),
    tl: withFallback(translateLabel as TranslateFn, resourceId),
    tb: withFallback(translateButton as TranslateFn, resourceId),
  // eslint-disable-next-line react-hooks/exhaustive-deps
  }), [i18n, language, resourceId])
}
