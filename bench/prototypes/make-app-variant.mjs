// Recreates bench/.tmp/app-variant from the CURRENT example-app plus bench switches (never src):
//   BENCH_THROTTLE_TOUCH=<ms>  session store touch() at most once per <ms> per session id
//   BENCH_DISABLE_TOUCH=1      connect-session-sequelize disableTouch
//   BENCH_SQLITE_WAL=1         PRAGMA journal_mode=WAL, synchronous=NORMAL
//   BENCH_LIB=<abs path>       import the plugin from a patched copy of lib/ instead of the package
//   BENCH_MEM_LOG=1            print process.memoryUsage() every 2 s
// Usage (project root): node bench/prototypes/make-app-variant.mjs
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const out = join(root, 'bench', '.tmp', 'app-variant')
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })

function replace(text, from, to) {
  if (!text.includes(from)) throw new Error(`example-app changed: cannot find ${JSON.stringify(from.slice(0, 80))}`)
  return text.replace(from, to)
}
let app = readFileSync(join(root, 'example-app', 'app.js'), 'utf8')
app = replace(app, "import { resumableUploadFeature, buildAuthenticatedRouter } from 'adminjs-resumable'",
  "const { resumableUploadFeature, buildAuthenticatedRouter } = await import(process.env.BENCH_LIB || 'adminjs-resumable')")
app = replace(app, "const distDir = resolve(here, '..', 'components', 'dist')", "const distDir = resolve(here, '..', '..', '..', 'components', 'dist')")
app = replace(app, "    expiration: Number(env.SESSION_MAX_AGE_MS || 8 * 3600 * 1000),\n  })",
  "    expiration: Number(env.SESSION_MAX_AGE_MS || 8 * 3600 * 1000),\n    disableTouch: !!env.BENCH_DISABLE_TOUCH,\n  })")
app = replace(app, '  await sequelize.sync()\n', `  if (env.BENCH_THROTTLE_TOUCH) {
    // touch at most once per BENCH_THROTTLE_TOUCH ms per session id
    const touch = sessionStore.touch.bind(sessionStore)
    const last = new Map()
    sessionStore.touch = (sid, data, fn) => {
      const now = Date.now()
      if (now - (last.get(sid) ?? 0) < Number(env.BENCH_THROTTLE_TOUCH)) return fn()
      last.set(sid, now)
      return touch(sid, data, fn)
    }
  }
  if (env.BENCH_SQLITE_WAL) {
    await sequelize.query('PRAGMA journal_mode=WAL')
    await sequelize.query('PRAGMA synchronous=NORMAL')
  }
  await sequelize.sync()
`)
writeFileSync(join(out, 'app.js'), app)
let server = readFileSync(join(root, 'example-app', 'server.js'), 'utf8')
server += `
if (process.env.BENCH_MEM_LOG) {
  setInterval(() => {
    const m = process.memoryUsage()
    const mb = (x) => Math.round(x / 1048576)
    console.log(\`MEM rss \${mb(m.rss)} heapUsed \${mb(m.heapUsed)} heapTotal \${mb(m.heapTotal)} external \${mb(m.external)} arrayBuffers \${mb(m.arrayBuffers)}\`)
  }, 2000).unref()
}
`
writeFileSync(join(out, 'server.js'), server)
writeFileSync(join(out, 'bundle-components.js'), readFileSync(join(root, 'example-app', 'bundle-components.js'), 'utf8'))
// A patched lib copy resolves its components relative to itself: bench/.tmp/components -> components
rmSync(join(root, 'bench', '.tmp', 'components'), { force: true })
symlinkSync('../../components', join(root, 'bench', '.tmp', 'components'))
console.log(`wrote ${out}`)
