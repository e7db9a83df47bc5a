// Summarises a .cpuprofile: self time by function and by package/file. Usage: node bench/prof-summary.mjs <file> [top]
import { readFileSync } from 'node:fs'
const [file, topArg] = process.argv.slice(2)
const top = Number(topArg || 25)
const prof = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(prof.nodes.map((n) => [n.id, n]))
const self = new Map()
const dt = prof.timeDeltas
for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) || 0) + (dt[i] || 0))
const total = [...self.values()].reduce((a, b) => a + b, 0)
const fn = new Map(); const pkg = new Map()
for (const [id, t] of self) {
  const { callFrame: c } = byId.get(id)
  const url = c.url.replace(/^file:\/\//, '')
  const key = `${c.functionName || '(anon)'} ${url.split('/').slice(-2).join('/')}:${c.lineNumber + 1}`
  fn.set(key, (fn.get(key) || 0) + t)
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  const p = m ? m[1] : url.includes('/lib/') ? 'adminjs-resumable lib' : url.startsWith('node:') ? 'node:' + url.slice(5).split('/')[0] : url ? url.split('/').slice(-2).join('/') : c.functionName
  pkg.set(p, (pkg.get(p) || 0) + t)
}
const show = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, t]) => `${(t / 1000).toFixed(0).padStart(7)} ms ${(100 * t / total).toFixed(1).padStart(5)}%  ${k}`).join('\n')
console.log(`total ${(total / 1000).toFixed(0)} ms\n-- by package/file\n${show(pkg)}\n-- by function\n${show(fn)}`)
