// Which test files the fast tier (`npm run test:fast`) runs, read from what each file actually uses,
// so that no hand-kept list can fall behind. A file needs:
//   browser    when it (or a module of test/ it imports) drives Chromium: support/browser, playwright-core;
//   s3         when it starts s3rver (support/s3rver);
//   processes  when it runs a process beside the test (spawn, fork, exec, execFile of node:child_process,
//              or a test environment that does). A short tool call (spawnSync, execFileSync) is not one.
// Static imports are followed; an `import()` is not: support/stack.ts loads the components bundler
// that way, on the first page a browser asks for, which only browser tests do.
// PostgreSQL is not a reason to leave a file out: files that run on SQLite and PostgreSQL keep their
// SQLite half, and the fast tier's ADMINJS_RESUMABLE_TIER=fast turns the PostgreSQL half into todos
// (test/support/services.ts).
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s+['"]([^'"]+)['"]/g
const ENVIRONMENT = /@jest-environment\s+(\.\S+)/

/** The needs a module brings by itself, from its source text. */
function ownNeeds(source, file) {
  const needs = new Set()
  if (file.endsWith('.browser.test.ts')) needs.add('browser')
  for (const [, , typeOnly, names, spec] of source.matchAll(IMPORT)) {
    if (typeOnly) continue
    if (spec === 'playwright-core') needs.add('browser')
    if (spec === 'node:child_process' && /\b(spawn|fork|exec|execFile)\b/.test(names)) needs.add('processes')
  }
  return needs
}

/** Relative imports of a module that land inside test/ (TypeScript `.js` specifiers map to `.ts`). */
function localImports(source, file, root) {
  const found = []
  const specs = [...source.matchAll(IMPORT)].filter((m) => !m[2]).map((m) => m[4])
  const environment = source.match(ENVIRONMENT)?.[1]
  if (environment) specs.push(resolve(root, environment))
  for (const spec of specs) {
    if (!spec.startsWith('.') && !spec.startsWith('/')) continue
    const target = resolve(dirname(file), spec)
    if (!target.startsWith(join(root, 'test'))) continue
    const candidates = [target, target.replace(/\.js$/, '.ts'), target.replace(/\.mjs$/, '.mts')]
    const hit = candidates.find((c) => existsSync(c))
    if (hit) found.push(hit)
  }
  return found
}

const NAMED = { 'support/browser.ts': 'browser', 'support/s3rver.ts': 's3' }

/** file → Set of needs, following the file's imports inside test/. */
export function needsOf(file, root, seen = new Map()) {
  if (seen.has(file)) return seen.get(file)
  const needs = new Set()
  seen.set(file, needs)
  const source = readFileSync(file, 'utf8')
  for (const need of ownNeeds(source, file)) needs.add(need)
  for (const [suffix, need] of Object.entries(NAMED)) if (file.endsWith(join('test', suffix))) needs.add(need)
  for (const imported of localImports(source, file, root)) for (const need of needsOf(imported, root, seen)) needs.add(need)
  return needs
}

/** Every test file with its needs. */
export function testFiles(root) {
  const dir = join(root, 'test')
  const seen = new Map()
  return readdirSync(dir)
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => ({ file: join(dir, name), needs: [...needsOf(join(dir, name), root, seen)].sort() }))
}

/** The files of the fast tier: those that need none of browser, s3, processes. */
export function fastTestFiles(root) {
  return testFiles(root).filter((t) => t.needs.length === 0).map((t) => t.file)
}
