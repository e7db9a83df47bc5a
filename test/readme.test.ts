/**
 * The README's "Use it in your app" shows examples/your-app/app.js, the file the packed-app test
 * runs: the code block after the `<!-- examples/your-app/app.js -->` marker must be that file, byte
 * for byte, so the two cannot drift. The README, docs/*.md and bench/RESULTS.md link each other: no
 * link may point at a file or heading that is not there.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test } from '@jest/globals'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const MARKER = '<!-- examples/your-app/app.js -->\n```js\n'

test("the README's app code is examples/your-app/app.js, byte for byte", () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8')
  const app = readFileSync(join(REPO, 'examples', 'your-app', 'app.js'), 'utf8')
  const start = readme.indexOf(MARKER)
  expect(start).toBeGreaterThan(readme.indexOf('## Use it in your app'))
  expect(readme.indexOf(MARKER, start + 1)).toBe(-1)
  const body = readme.slice(start + MARKER.length)
  const end = body.indexOf('\n```\n')
  expect(end).toBeGreaterThan(0)
  expect(body.slice(0, end + 1)).toBe(app)
})

test('examples/your-app/package.json declares the tarball and every peer the app imports', () => {
  const manifest = JSON.parse(readFileSync(join(REPO, 'examples', 'your-app', 'package.json'), 'utf8'))
  const app = readFileSync(join(REPO, 'examples', 'your-app', 'app.js'), 'utf8')
  const imported = [...app.matchAll(/^import .* from '([^']+)'$/gm)].map((m) => m[1]!).filter((m) => !m.startsWith('node:'))
  for (const name of imported) expect(Object.keys(manifest.dependencies)).toContain(name)
  const ours = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'))
  expect(manifest.dependencies['adminjs-resumable']).toBe(`file:../../adminjs-resumable-${ours.version}.tgz`)
  // The peers our package.json promises, so that a user copying the example gets a working set.
  const optional = ours.peerDependenciesMeta ?? {}
  for (const peer of Object.keys(ours.peerDependencies)) {
    if (!optional[peer]?.optional) expect(Object.keys(manifest.dependencies)).toContain(peer)
  }
})

/** The text outside fenced code blocks, where Markdown links and headings live. */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '')
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const result = new Set<string>()
  for (const [, text] of prose(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = text!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-')
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    result.add(count === 0 ? base : `${base}-${count}`)
  }
  return result
}

test('every relative link in README.md, docs/*.md and bench/RESULTS.md points to a file that exists, and to a heading there', () => {
  const pages = ['README.md', 'bench/RESULTS.md', ...readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]
  expect(pages.length).toBeGreaterThan(5)
  const broken: string[] = []
  let checked = 0
  for (const page of pages) {
    const text = readFileSync(join(REPO, page), 'utf8')
    for (const [, target] of prose(text).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) continue // https:, mailto: ...
      checked++
      const [path, anchor] = target!.split('#') as [string, string | undefined]
      const file = path ? join(REPO, dirname(page), path) : join(REPO, page)
      if (!existsSync(file)) { broken.push(`${page}: ${target} (no such file)`); continue }
      if (anchor !== undefined && !anchors(readFileSync(file, 'utf8')).has(anchor)) {
        broken.push(`${page}: ${target} (no such heading)`)
      }
    }
  }
  expect(checked).toBeGreaterThan(20)
  expect(broken).toEqual([])
})
