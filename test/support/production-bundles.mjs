// AdminJS's production bundles for the tests that start the example app in production (the app
// refuses to start without them). Shared by processes.ts and the jsdom environment, which cannot
// import TypeScript.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The most recently modified file ending in `ext` under `dir`. */
export function newest(dir, ext) {
  let best = { file: '', time: 0 }
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    const found = entry.isDirectory() ? newest(path, ext) : entry.name.endsWith(ext) ? { file: path, time: statSync(path).mtimeMs } : best
    if (found.time > best.time) best = found
  }
  return best
}

let bundles
/**
 * Built by `example-app/bundle.js` (what `npm run bundle` runs) into test/.tmp, and rebuilt when the
 * compiled components are newer. Resolves to the folder to pass as ADMIN_ASSETS_DIR.
 */
export function productionBundles() {
  bundles ??= (async () => {
    const dir = join(REPO, 'test', '.tmp', 'production-bundles')
    const assets = join(dir, 'assets')
    const built = statSync(join(assets, 'components.bundle.js'), { throwIfNoEntry: false })
    if (built && built.mtimeMs > newest(join(REPO, 'components', 'dist'), '.js').time) return assets
    mkdirSync(dir, { recursive: true })
    const child = spawn(process.execPath, [join(REPO, 'example-app', 'bundle.js')], {
      cwd: REPO,
      env: { ...process.env, NODE_OPTIONS: '', ADMIN_ASSETS_DIR: assets, ADMIN_JS_TMP_DIR: join(dir, 'adminjs'), UPLOAD_DIR: join(dir, 'uploads') },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (d) => { output += d })
    child.stderr.on('data', (d) => { output += d })
    const [code] = await once(child, 'exit')
    if (code !== 0) throw new Error(`example-app/bundle.js failed (${code}):\n${output}`)
    return assets
  })()
  return bundles
}
