/**
 * A site on local disk never loads the AWS SDK (an optional peer dependency): nothing the package's
 * entry point imports, directly or through other modules, reaches the S3 modules or `@aws-sdk/*`.
 * Checked on the source import graph, so a new static import anywhere on the path fails here.
 */
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test } from '@jest/globals'

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src')

/** Every module reachable from `entry` by static imports (type-only imports are erased, so skipped). */
function reachable(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string) => {
    if (files.has(file)) return
    files.add(file)
    const source = readFileSync(file, 'utf8')
    for (const match of source.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) {
      const spec = match[1]
      if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')).replace(/\.ts\.ts$/, '.ts'))
      else packages.add(spec)
    }
  }
  visit(entry)
  return { files, packages }
}

test('the package entry reaches neither src/store/s3 nor @aws-sdk', () => {
  const { files, packages } = reachable(join(SRC, 'index.ts'))
  expect(files.size).toBeGreaterThan(5)
  expect([...files].filter((f) => f.includes('/store/s3/') || f.includes('/store/shared-state/'))).toEqual([])
  expect([...packages].filter((p) => p.startsWith('@aws-sdk/'))).toEqual([])
})

test('the S3 modules load the SDK only when asked (no static import of @aws-sdk)', () => {
  const { packages } = reachable(join(SRC, 'store', 's3', 'index.ts'))
  expect([...packages].filter((p) => p.startsWith('@aws-sdk/'))).toEqual([])
})
