// AdminJS's production bundles for the tests that start the example app in production (the app
// refuses to start without them). Shared by processes.ts and the jsdom environment, which cannot
// import TypeScript.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
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
 * Built by `example-app/bundle.js` (what `npm run bundle` runs) into test/.tmp, once per build of the
 * compiled components. Resolves to the folder to pass as ADMIN_ASSETS_DIR. Jest workers may ask at
 * the same moment: each builds into a folder of its own and renames it into place, so a reader only
 * ever sees a finished build.
 */
export function productionBundles() {
  bundles ??= (async () => {
    const root = join(REPO, 'test', '.tmp', 'production-bundles')
    const key = String(Math.floor(newest(join(REPO, 'components', 'dist'), '.js').time))
    const dir = join(root, key)
    if (existsSync(join(dir, 'assets', 'components.bundle.js'))) return join(dir, 'assets')
    mkdirSync(root, { recursive: true })
    for (const old of readdirSync(root).filter((name) => /^\d+$/.test(name) && name !== key)) {
      rmSync(join(root, old), { recursive: true, force: true })
    }
    const work = mkdtempSync(join(root, `building-${process.pid}-`))
    const child = spawn(process.execPath, [join(REPO, 'example-app', 'bundle.js')], {
      cwd: REPO,
      env: { ...process.env, NODE_OPTIONS: '', ADMIN_ASSETS_DIR: join(work, 'assets'), ADMIN_JS_TMP_DIR: join(work, 'adminjs'), UPLOAD_DIR: join(work, 'uploads') },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (d) => { output += d })
    child.stderr.on('data', (d) => { output += d })
    const [code] = await once(child, 'exit')
    if (code !== 0) {
      rmSync(work, { recursive: true, force: true })
      throw new Error(`example-app/bundle.js failed (${code}):\n${output}`)
    }
    try {
      renameSync(work, dir)
    } catch (error) {
      // Another worker's build got there first: use it.
      rmSync(work, { recursive: true, force: true })
      if (!existsSync(join(dir, 'assets', 'components.bundle.js'))) throw error
    }
    return join(dir, 'assets')
  })()
  return bundles
}
