import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { newest } from './production-bundles.mjs'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

let bundled: Promise<void> | undefined
/**
 * AdminJS (outside production) serves `.adminjs/bundle.js` as it finds it: rebuilt when older than
 * the compiled components, on the first page that asks for it, so API-only tests never pay for it.
 * Each jest worker builds into a folder of its own and renames the file into place.
 */
export function componentsBundle(): Promise<void> {
  bundled ??= (async () => {
    const output = join(REPO, '.adminjs', 'bundle.js')
    const built = statSync(output, { throwIfNoEntry: false })
    if (built && built.mtimeMs > newest(join(REPO, 'components', 'dist'), '.js').time) return
    mkdirSync(dirname(output), { recursive: true })
    const work = mkdtempSync(join(REPO, '.adminjs', `building-${process.pid}-`))
    try {
      const child = spawn(process.execPath, [join(REPO, 'example-app', 'bundle-components.js')], {
        cwd: REPO,
        env: { ...process.env, NODE_OPTIONS: '', ADMIN_JS_TMP_DIR: work },
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      let errors = ''
      child.stderr!.on('data', (text) => { errors = (errors + text).slice(-4000) })
      const [code] = await once(child, 'exit')
      if (code !== 0 || !existsSync(join(work, 'bundle.js'))) throw new Error(`Building the components bundle failed (${code}):\n${errors}`)
      renameSync(join(work, 'bundle.js'), output)
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  })()
  return bundled
}
