/**
 * The README's "Use it in your app" shows examples/your-app/app.js, the file the packed-app test
 * runs: the code block after the `<!-- examples/your-app/app.js -->` marker must be that file, byte
 * for byte, so the two cannot drift.
 */
import { readFileSync } from 'node:fs'
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
