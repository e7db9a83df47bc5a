// Self time by package and by function in one span of a .cpuprofile: the app's profile covers its
// whole life (start-up dominates), the browser rows want the upload alone. V8's profile clock and
// process.hrtime are both CLOCK_MONOTONIC on Linux, so the bench's own timestamps select the span.
// Usage: node bench/browser/prof-window.mjs <file> <fromUs> <toUs> [top]
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Now in the profile's clock (µs of CLOCK_MONOTONIC). */
export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n)

export function profileWindow(file, fromUs, toUs, top = 15) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const fn = new Map()
  const pkg = new Map()
  let t = profile.startTime
  let total = 0
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0
    if (t < fromUs || t > toUs) continue
    const dt = profile.timeDeltas[i + 1] ?? 0
    const { callFrame: c } = byId.get(profile.samples[i])
    if (c.functionName === '(idle)') continue
    total += dt
    const url = c.url.replace(/^file:\/\//, '')
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
    const where = m ? m[1] : url.includes('/lib/') ? 'adminjs-resumable lib' : url.startsWith('node:') ? url.split('/')[0] : url ? url.split('/').slice(-2).join('/') : c.functionName
    pkg.set(where, (pkg.get(where) ?? 0) + dt)
    const name = `${c.functionName || '(anon)'} ${url.split('/').slice(-2).join('/')}:${c.lineNumber + 1}`
    fn.set(name, (fn.get(name) ?? 0) + dt)
  }
  const show = (map) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => [k, Math.round(v / 1000)])
  return { busyMs: Math.round(total / 1000), byPackageMs: show(pkg), byFunctionMs: show(fn) }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, from, to, top] = process.argv.slice(2)
  console.log(JSON.stringify(profileWindow(file, Number(from), Number(to), Number(top || 15)), null, 1))
}
