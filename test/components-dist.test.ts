/**
 * The compiled components import src/shared by relative path, and AdminJS's bundler (rollup) only
 * follows relative imports from the files it is given: everything they reach must be in
 * components/dist, in the repository and in the packed package, and src/shared must stay free of
 * anything a browser lacks.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, test } from '@jest/globals'
import { ComponentLoader } from 'adminjs'
import { resumableUploadFeature } from '../src/index.js'

const REPO = process.cwd()
const DIST = join(REPO, 'components', 'dist')
const importsOf = (source: string): string[] => [...source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1])

describe('src/shared is pure', () => {
  test.each(readdirSync(join(REPO, 'src', 'shared')))('%s imports only its neighbours and uses no Node globals', (file) => {
    const source = readFileSync(join(REPO, 'src', 'shared', file), 'utf8')
    expect(importsOf(source).filter((spec) => !/^\.\/[\w-]+\.js$/.test(spec))).toEqual([])
    expect(source).not.toMatch(/\b(Buffer|process|require)\b/)
  })
})

describe('components/dist', () => {
  // The feature starts its store in the background, past this test's end: one reused folder, ignored by git.
  const storeDir = join(REPO, 'test', '.tmp', 'components-dist-store')
  const compiled = existsSync(DIST) ? readdirSync(DIST, { recursive: true }).map(String).filter((f) => f.endsWith('.js')) : []

  test('is built (npm run build)', () => {
    expect(compiled).toContain(join('components', 'ResumableEdit.js'))
  })

  test('every relative import of a compiled file lands on a compiled file inside components/dist', () => {
    const missing: string[] = []
    for (const file of compiled) {
      for (const spec of importsOf(readFileSync(join(DIST, file), 'utf8')).filter((s) => s.startsWith('.'))) {
        const target = resolve(DIST, dirname(file), spec)
        if (relative(DIST, target).startsWith('..') || !existsSync(target)) missing.push(`${file} → ${spec}`)
      }
    }
    expect(missing).toEqual([])
  })

  test('the feature registers component files that exist', () => {
    const componentLoader = new ComponentLoader()
    resumableUploadFeature({ componentLoader, properties: { key: 'k' }, storage: { local: { directory: storeDir } }, expiry: { sweepIntervalMs: 0 } })
    const paths = Object.values(componentLoader.getComponents())
    expect(paths).toHaveLength(3)
    for (const path of paths) expect(existsSync(path.endsWith('.js') ? path : `${path}.js`)).toBe(true)
  })

  test('the packed package holds every compiled component file', () => {
    const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' }))
    const packed = new Set((pack.files as Array<{ path: string }>).map((f) => f.path))
    expect(compiled.map((f) => join('components', 'dist', f)).filter((f) => !packed.has(f))).toEqual([])
  })
})
