// CPU time per thread of the example app (as `npm start` runs it) during one 512 MiB upload by the
// bench client: node bench/thread-cpu.mjs <chunk MiB> <on|off>. `on` is the defaults (file SHA-256,
// chunk digests), `off` CHECKSUMS=off. MAIN is the event loop; the other rows are the hashing thread,
// V8's GC helper threads and libuv's thread pool (Linux names them all "node": told apart by their
// figures). Machine-level noise aside, this shows which thread a change moved work to or from.
import { spawn } from 'node:child_process'
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomFillSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import http from 'node:http'
import { uploadResumable, request } from './resumable-client.mjs'
const [cs = '1', mode = 'on'] = process.argv.slice(2)
const chunkSize = Number(cs) * 1048576
const dir = mkdtempSync(join(tmpdir(), 'thr-'))
const size = 512 * 1048576
const src = join(dir, 'src.bin'); const b = Buffer.allocUnsafe(size); randomFillSync(b); writeFileSync(src, b)
const child = spawn(process.execPath, ['--max-semi-space-size=1', '--heap-growing-percent=30', 'example-app/server.js'], { cwd: new URL('..', import.meta.url).pathname, env: { ...process.env, MALLOC_ARENA_MAX: '1', HOST: '127.0.0.1', PORT: '0', UPLOAD_DIR: join(dir, 'up'), DATABASE_FILE: join(dir, 'db.sqlite'), CHUNK_SIZE: String(chunkSize), SWEEP_INTERVAL_MS: '0', MAX_UPLOAD_SIZE: String(64 * 1024 ** 3), ...(mode === 'off' ? { CHECKSUMS: 'off' } : {}) }, stdio: ['ignore', 'pipe', 'inherit'] })
const port = await new Promise((res) => { let buf = ''; child.stdout.on('data', (d) => { buf += d; const m = /LISTENING (\d+)/.exec(buf); if (m) res(Number(m[1])) }) })
const base = `http://127.0.0.1:${port}`
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
const login = await request(agent, `${base}/admin/login`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: Buffer.from('email=admin%40example.com&password=password') })
const cookie = [].concat(login.headers['set-cookie']).map((c) => c.split(';')[0]).find((c) => c.startsWith('adminjs='))
const threads = () => Object.fromEntries(readdirSync(`/proc/${child.pid}/task`).map((t) => { const s = readFileSync(`/proc/${child.pid}/task/${t}/stat`, 'utf8'); const comm = /\((.*)\)/.exec(s)[1]; const f = s.split(') ').pop().split(' '); return [`${t}:${comm}`, { u: Number(f[11]), s: Number(f[12]) }] }))
const t0 = threads()
const up = await uploadResumable({ target: `${base}/admin/api/resumable/Document/file`, file: src, size, chunkSize, cookie, identifier: `x-${Date.now()}`, chunkDigests: mode !== 'off', method: 'octet' })
const t1 = threads()
const rows = Object.entries(t1).map(([k, v]) => { const a = t0[k] ?? { u: 0, s: 0 }; return [k, (v.u - a.u) / 100, (v.s - a.s) / 100] }).filter((r) => r[1] + r[2] > 0)
console.log(mode, cs, 'MiB', (size / 1e6 / (up.ms / 1000)).toFixed(0), 'MB/s', rows.sort((a, b) => (b[1] + b[2]) - (a[1] + a[2])).map(([k, u, s]) => `${k.split(':')[0] === String(child.pid) ? 'MAIN' : k.split(':')[0]} u${u.toFixed(2)} s${s.toFixed(2)}`).join(' | '))
child.kill(); rmSync(dir, { recursive: true, force: true }); process.exit(0)
