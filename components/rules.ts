/**
 * Client-side checks mirroring the server's (src/protocol/file-type.ts): they only save a pointless
 * upload; the server checks again on every chunk.
 */
import type { ResumableCustom } from './custom.js'

const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/

export function extensionOf(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? name
  const dot = base.lastIndexOf('.')
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : ''
}

function declaredType(type: string): string {
  const t = type.trim().toLowerCase().split(';')[0].trim()
  return t && MIME.test(t) ? t : ''
}

export function mimeMatches(type: string, patterns: string[]): boolean {
  return patterns.some((pattern) => {
    const p = pattern.toLowerCase()
    if (p === '*' || p === '*/*') return true
    return p.endsWith('/*') ? type.startsWith(p.slice(0, -1)) : type === p
  })
}

export type FileProblem =
  | { code: 'empty' }
  | { code: 'too_large'; maxSize: number }
  | { code: 'extension'; allowed: string[] }
  | { code: 'type'; allowed: string[]; type: string }

/** Returns why the file would be refused, or null when it may be sent. */
export function checkFile(
  file: { name: string; size: number; type: string },
  custom: Pick<ResumableCustom, 'maxSize' | 'mimeTypes' | 'extensions' | 'typeByExtension'>,
): FileProblem | null {
  if (file.size <= 0) return { code: 'empty' }
  if (custom.maxSize > 0 && file.size > custom.maxSize) return { code: 'too_large', maxSize: custom.maxSize }
  const ext = extensionOf(file.name)
  const extensionAllowed = custom.extensions.length > 0 && custom.extensions.includes(ext)
  if (custom.extensions.length > 0 && !extensionAllowed) {
    return { code: 'extension', allowed: custom.extensions }
  }
  if (custom.mimeTypes.length > 0) {
    const declared = declaredType(file.type)
    if (declared) {
      if (!mimeMatches(declared, custom.mimeTypes)) return { code: 'type', allowed: custom.mimeTypes, type: declared }
    } else {
      // The browser gave no type: guess it from the extension as the server does, and accept a
      // file whose extension is explicitly allowed.
      const guessed = custom.typeByExtension[ext]
      if (!extensionAllowed && !(guessed && mimeMatches(guessed, custom.mimeTypes))) {
        return { code: 'type', allowed: custom.mimeTypes, type: guessed ?? '' }
      }
    }
  }
  return null
}

/** Value for the `accept` attribute of the file input. */
export function acceptAttribute(custom: Pick<ResumableCustom, 'mimeTypes' | 'extensions'>): string | undefined {
  const list = [...custom.mimeTypes, ...custom.extensions.map((e) => `.${e}`)]
  // With both lists, a file must pass both: offering the union in the picker is the best the
  // attribute can do; checkFile() decides.
  return list.length ? list.join(',') : undefined
}
