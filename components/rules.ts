/**
 * The browser's pre-check of a chosen file. It applies the server's own rule (src/shared/file-type.ts)
 * and limits: it only saves a pointless upload, as the server checks again on every chunk.
 */
import type { ResumableCustom } from '../src/shared/custom.js'
import { typeProblem, type TypeProblem } from '../src/shared/file-type.js'

export type FileProblem =
  | { code: 'empty' }
  | { code: 'many' }
  | { code: 'too_large'; maxSize: number }
  | TypeProblem

type Limits = Pick<ResumableCustom, 'maxSize' | 'mimeTypes' | 'extensions'>

/** Returns why the file would be refused, or null when it may be sent. */
export function checkFile(file: { name: string; size: number; type: string }, custom: Limits): FileProblem | null {
  if (file.size <= 0) return { code: 'empty' }
  if (custom.maxSize > 0 && file.size > custom.maxSize) return { code: 'too_large', maxSize: custom.maxSize }
  return typeProblem(file.type, file.name, custom)
}

/** Value for the `accept` attribute of the file input. */
export function acceptAttribute(custom: Pick<ResumableCustom, 'mimeTypes' | 'extensions'>): string | undefined {
  const list = [...custom.mimeTypes, ...custom.extensions.map((e) => `.${e}`)]
  // With both lists, a file must pass both: offering the union in the picker is the best the
  // attribute can do; checkFile() decides.
  return list.length ? list.join(',') : undefined
}
