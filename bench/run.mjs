// npm run bench [-- --size 512M --rounds 3 --chunks 1M,5M --only ours,ours-off,ours-multipart,ours-noguards,ours-defaults,tus,plain,disk,adminjs-alone --cpu-prof --large --keep --s3|--no-s3]
//
// Uploads one random file to: our stack (the example app: Express + AdminJS + Sequelize/SQLite +
// adminjs-resumable) with a Resumable.js 1.1.0 protocol client; @tus/server + @tus/file-store with
// tus-js-client (sequential, and parallelUploads: 3 as an extra row); a careful plain busboy server
// (chunk files concatenated at the end) with the same client; and the disk ceiling (sequential
// write + fsync). Interleaved rounds, rotating order, medians. Every assembled file is checked by
// sha256. Server peak RSS comes from /proc/<pid>/status (VmHWM, reset right before the upload);
// server CPU from /proc/<pid>/stat, client CPU from this process. "ours" is the example app started
// as `npm start` starts it (package.json: its memory settings), "ours-defaults" the same app with
// node's defaults. "adminjs-alone" is the same AdminJS app, started the same way as "ours" but
// without the plugin, measured idle after login: its RSS is the floor under ours. "RSS growth" is the
// peak minus the RSS right before the upload. With s3rver installed (or --s3), the S3 rows of
// bench/s3.mjs run in the same rounds at the chunk sizes of at least 5 MiB, against one s3rver.
// Results: tables on stdout and bench/results/latest.json (+ latest-<size>.json).
import { spawn, spawnSync } from 'node:child_process'
import { createHash, randomFillSync } from 'node:crypto'
import { createReadStream, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { mkdtemp, open, readFile, rm, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir, cpus, release, totalmem, loadavg } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import http from 'node:http'
import { performance } from 'node:perf_hooks'
import { randomBytes } from 'node:crypto'
import { request } from './resumable-client.mjs'
import { CLIENT_NODE_FLAGS, inClientProcess } from './client-process.mjs'
import { MIN_PART_SIZE, NotAvailable, S3_PEERS, s3Peers, s3Summary, s3rverInstalled, startS3rver } from './s3.mjs'
import { BROWSER_PEERS, BROWSER_S3_PEERS, browserPeers, selectBrowserPeers } from './browser/rows.mjs'
import { browserSummary } from './browser/summary.mjs'

const here = dirname(fileURLToPath(import.meta.url))

const projectRoot = resolve(here, '..')
const MiB = 1024 * 1024

// ---------------------------------------------------------------- arguments
function parseBytes(text) {
  const m = /^(\d+(?:\.\d+)?)([kmg]i?b?)?$/i.exec(String(text).trim())
  if (!m) throw new Error(`Not a size: ${text}`)
  const unit = (m[2] || '').toLowerCase()[0]
  const mult = unit === 'k' ? 1024 : unit === 'm' ? MiB : unit === 'g' ? 1024 * MiB : 1
  return Math.round(Number(m[1]) * mult)
}
function parseArgs(argv) {
  const opts = {
    size: 512 * MiB, rounds: 3, chunks: [1 * MiB, 5 * MiB], only: null, cpuProf: false, keep: false,
    tusParallel: true, out: null, oursServer: 'example-app/server.js', oursEnv: {}, protos: [], s3: null, browser: null, browserProfile: false,
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const val = () => {
      if (a.includes('=')) return a.slice(a.indexOf('=') + 1)
      return argv[++i]
    }
    const name = a.split('=')[0]
    if (name === '--size') opts.size = parseBytes(val())
    else if (name === '--rounds') opts.rounds = Number(val())
    else if (name === '--chunks') opts.chunks = val().split(',').map(parseBytes)
    else if (name === '--only') opts.only = val().split(',')
    else if (name === '--large') { opts.size = 2048 * MiB; opts.rounds = 1 }
    else if (name === '--cpu-prof') opts.cpuProf = true
    else if (name === '--keep') opts.keep = true
    else if (name === '--no-tus-parallel') opts.tusParallel = false
    else if (name === '--s3') opts.s3 = true
    else if (name === '--no-s3') opts.s3 = false
    else if (name === '--browser') opts.browser = true
    else if (name === '--no-browser') opts.browser = false
    else if (name === '--browser-profile') opts.browserProfile = true
    else if (name === '--browser-trace') opts.browserTrace = true
    else if (name === '--browser-dev') opts.browserDev = true
    else if (name === '--out') opts.out = val()
    else if (name === '--ours-server') opts.oursServer = val()
    else if (name === '--proto') opts.protos.push({ name: `ours-${val()}`, script: null, env: {} })
    else if (name === '--proto-server') {
      if (!opts.protos.length) opts.protos.push({ name: 'ours-proto', script: null, env: {} })
      opts.protos.at(-1).script = val()
    } else if (name === '--proto-env') {
      if (!opts.protos.length) opts.protos.push({ name: 'ours-proto', script: null, env: {} })
      const [k, ...v] = val().split('=')
      opts.protos.at(-1).env[k] = v.join('=')
    }
    else if (name === '--ours-env') { const [k, ...v] = val().split('='); opts.oursEnv[k] = v.join('=') }
    else if (name === '--help' || name === '-h') {
      console.log('npm run bench -- [--size 512M|2G] [--rounds 3] [--chunks 1M,5M] [--only ours,ours-off,ours-multipart,ours-noguards,ours-defaults,tus,tus-par3,plain,disk,adminjs-alone] [--large] [--cpu-prof] [--no-tus-parallel] [--keep] [--s3|--no-s3: the rows ours-s3,ours-s3-quarter,tus-s3,direct-s3; on by default when s3rver is installed] [--browser|--no-browser: the rows chromium-edit,chromium-bare,chromium-s3-app,chromium-s3-direct; on by default when Chromium is installed] [--browser-profile: time the hashing calls in the page, add chromium-edit-nodigest] [--browser-trace: Chromium performance trace and the page JavaScript profile of every browser run, to bench/.tmp/trace] [--browser-dev: the browser rows against the app in development mode, as npm start runs it, instead of production mode with prebuilt bundles]')
      process.exit(0)
    } else throw new Error(`Unknown argument ${a}`)
  }
  return opts
}
const opts = parseArgs(process.argv.slice(2))

// ---------------------------------------------------------------- children and cleanup
const children = new Set()
/** Children started for a run (servers, client processes): killed when the bench stops. */
const track = (child) => {
  children.add(child)
  child.once('exit', () => children.delete(child))
}
let workDir = null
function cleanupSync() {
  for (const child of children) {
    try { child.kill('SIGKILL') } catch { /* gone */ }
  }
  children.clear()
  if (workDir && !opts.keep) {
    try { rmSync(workDir, { recursive: true, force: true }) } catch { /* best effort */ }
  }
}
process.on('exit', cleanupSync)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping children and removing ${workDir}`)
    cleanupSync()
    process.exit(130)
  })
}
process.on('uncaughtException', (error) => {
  console.error(error)
  cleanupSync()
  process.exit(1)
})
process.on('unhandledRejection', (error) => {
  console.error(error)
  cleanupSync()
  process.exit(1)
})

/** Spawns `node <script>` and waits for `LISTENING <port>` on stdout. */
async function startServer(name, script, env, nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, script], {
    cwd: projectRoot,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  const log = []
  const keep = (stream, line) => {
    log.push(`[${stream}] ${line}`)
    if (log.length > 400) log.splice(0, log.length - 400)
  }
  const exited = new Promise((res) => child.once('exit', (code, signal) => { children.delete(child); res({ code, signal }) }))
  const port = await new Promise((res, rej) => {
    let buffer = ''
    const timer = setTimeout(() => rej(new Error(`${name} did not print LISTENING within 180 s:\n${log.join('\n')}`)), 180_000)
    child.stdout.on('data', (d) => {
      buffer += d
      let i
      while ((i = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, i)
        buffer = buffer.slice(i + 1)
        keep('out', line)
        const m = /^LISTENING (\d+)/.exec(line)
        if (m) { clearTimeout(timer); res(Number(m[1])) }
      }
    })
    child.stderr.on('data', (d) => { for (const line of String(d).split('\n')) if (line) keep('err', line) })
    exited.then(({ code, signal }) => { clearTimeout(timer); rej(new Error(`${name} exited (${code ?? signal}) before listening:\n${log.join('\n')}`)) })
  })
  return {
    name, child, port, log, pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      const result = await exited
      clearTimeout(timer)
      return result
    },
  }
}

// ---------------------------------------------------------------- measurements
async function procStatus(pid) {
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8')
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN)
    return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 }
  } catch {
    return null
  }
}
/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
async function cpuSeconds(pid) {
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ').pop().split(' ')
    // Fields 14 and 15 of stat(5), counted after "pid (comm) ": utime and stime in clock ticks.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return NaN
  }
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100
/**
 * Samples RSS every 100 ms and resets the kernel's peak (VmHWM, via clear_refs) first, so that the
 * peak is the upload's and not the start-up's; `stop()` returns the baseline, the sampled max,
 * VmHWM, and the CPU time the server used meanwhile; the client's is the one its process reports
 * (client-process.mjs), or this process's when the client ran here.
 */
async function usageSampler(pid) {
  const hwmReset = await writeFile(`/proc/${pid}/clear_refs`, '5').then(() => true, () => false)
  const first = await procStatus(pid)
  const cpu0 = await cpuSeconds(pid)
  const client0 = process.cpuUsage()
  let max = first?.rss ?? 0
  const t0 = performance.now()
  const timeline = []
  const timer = setInterval(async () => {
    const s = await procStatus(pid)
    if (s && s.rss > max) max = s.rss
    if (s) timeline.push([Math.round(performance.now() - t0), Math.round(s.rss / MiB)])
  }, 100)
  return {
    baseline: first?.rss ?? NaN,
    async stop(clientCpuS) {
      clearInterval(timer)
      const last = await procStatus(pid)
      const serverCpuS = (await cpuSeconds(pid)) - cpu0
      const client = process.cpuUsage(client0)
      // RSS at each tenth of the run, to tell growth with the file size from a one-off plateau.
      const tenths = timeline.length ? Array.from({ length: 10 }, (_, i) => timeline[Math.min(timeline.length - 1, Math.floor(((i + 1) * timeline.length) / 10) - 1)]?.[1]) : []
      const sampledMax = Math.max(max, last?.rss ?? 0)
      // Without the reset (an old kernel), VmHWM would include start-up: the samples are the peak then.
      const peak = hwmReset ? (last?.hwm ?? NaN) : sampledMax
      return {
        baselineMiB: (first?.rss ?? NaN) / MiB, sampledMaxMiB: sampledMax / MiB,
        growthMiB: (peak - (first?.rss ?? NaN)) / MiB,
        hwmMiB: peak / MiB, hwmReset, rssByTenthMiB: tenths,
        serverCpuS, clientCpuS: clientCpuS ?? (client.user + client.system) / 1e6,
      }
    },
  }
}
async function sha256File(path) {
  const hash = createHash('sha256')
  for await (const piece of createReadStream(path, { highWaterMark: 4 * MiB })) hash.update(piece)
  return hash.digest('hex')
}
function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (!v.length) return NaN
  const mid = Math.floor(v.length / 2)
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}
const mbps = (bytes, ms) => bytes / 1e6 / (ms / 1000)
/**
 * Every run starts from the same kernel state: dirty pages written out, then (where allowed, i.e. as
 * root) the page cache, dentries and inodes dropped and only the source file read back in: caches
 * left behind by earlier runs change a server's CPU time, so runs would not be comparable (figures
 * in bench/RESULTS.md).
 */
function resetKernelCaches(source) {
  spawnSync('sync')
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3')
  } catch {
    return false
  }
  spawnSync('cat', [source], { stdio: ['ignore', 'ignore', 'ignore'] })
  return true
}

// ---------------------------------------------------------------- the source file
async function makeSource(path, size) {
  const block = Buffer.allocUnsafe(8 * MiB)
  const hash = createHash('sha256')
  const handle = await open(path, 'w')
  let written = 0
  while (written < size) {
    const n = Math.min(block.length, size - written)
    randomFillSync(block, 0, n)
    await handle.write(block, 0, n, written)
    hash.update(block.subarray(0, n))
    written += n
  }
  await handle.close()
  return hash.digest('hex')
}

// ---------------------------------------------------------------- peers
/** Logs in to an AdminJS app at `base` as the example's admin; returns its session cookie. */
async function logIn(agent, base) {
  const login = await request(agent, `${base}/admin/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: Buffer.from('email=admin%40example.com&password=password'),
  })
  const setCookie = [].concat(login.headers['set-cookie'] ?? [])
  const cookie = setCookie.map((c) => c.split(';')[0]).find((c) => c.startsWith('adminjs='))
  if (login.status !== 302 || !cookie) throw new Error(`login failed: ${login.status} ${login.text.slice(0, 200)}`)
  return cookie
}

/** Save: what the AdminJS form posts (title + the upload's reference) to the `new` action. */
async function saveDocument(agent, base, cookie, reference) {
  const boundary = `----bench${randomBytes(8).toString('hex')}`
  const form = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nbench\r\n`
    + `--${boundary}\r\nContent-Disposition: form-data; name="file"\r\n\r\n${reference}\r\n--${boundary}--\r\n`,
  )
  return request(agent, `${base}/admin/api/resources/Document/actions/new`, {
    method: 'POST',
    headers: { Cookie: cookie, 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': String(form.length) },
    body: form,
  })
}

/**
 * A folder of profiles per server run: node names each thread's profile itself (the hashing thread
 * writes its own), so one fixed name would let the last thread overwrite the main thread's.
 */
function cpuProfArgs(run) {
  return ['--cpu-prof', `--cpu-prof-dir=${join(here, '.tmp', 'prof', run)}`]
}

async function runOurs(ctx, chunkSize, script = opts.oursServer, extraEnv = opts.oursEnv) {
  const dir = join(ctx.work, `ours-${randomBytes(4).toString('hex')}`)
  const uploadDir = join(dir, 'uploads')
  await mkdir(dir, { recursive: true })
  const nodeArgs = [...(extraEnv.BENCH_NODE_ARGS ? extraEnv.BENCH_NODE_ARGS.split(' ') : []), ...(opts.cpuProf ? cpuProfArgs(`${basename(script, '.js').replace(/\.mjs$/, '')}-${extraEnv.CHECKSUMS === 'off' ? 'off-' : ''}${chunkSize / MiB}M-${Date.now()}`) : [])]
  const server = await startServer('ours', script, {
    ...extraEnv,
    UPLOAD_DIR: uploadDir,
    DATABASE_FILE: join(dir, 'db.sqlite'),
    CHUNK_SIZE: String(chunkSize),
    SWEEP_INTERVAL_MS: '0',
    MAX_UPLOAD_SIZE: String(64 * 1024 ** 3),
  }, nodeArgs)
  try {
    const base = `http://127.0.0.1:${server.port}`
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const cookie = await logIn(agent, base)

    const sampler = await usageSampler(server.pid)
    const upload = await inClientProcess('resumable', {
      target: `${base}/admin/api/resumable/Document/file`,
      file: ctx.source, size: ctx.size, chunkSize, cookie,
      identifier: `${ctx.size}-benchbin-${randomBytes(4).toString('hex')}`,
      // As the edit components send chunks (resumable-setup.ts); ours-multipart: as plain Resumable.js does.
      method: extraEnv.BENCH_CLIENT_METHOD || 'octet',
      chunkDigests: extraEnv.CHECKSUMS !== 'off',
    }, track)
    if (!upload.complete?.reference) throw new Error(`no completing answer; problems: ${JSON.stringify(upload.problems.slice(0, 5))}`)

    const save = await saveDocument(agent, base, cookie, upload.complete.reference)
    const usage = await sampler.stop(upload.clientCpuS)
    agent.destroy()
    let saved = null
    try { saved = JSON.parse(save.text) } catch { /* reported below */ }
    const filePath = saved?.record?.params?.filePath
    if (save.status !== 200 || !filePath) throw new Error(`save failed: ${save.status} ${save.text.slice(0, 400)}`)
    const sha = await sha256File(join(uploadDir, filePath))
    const plainPosts = upload.posts.filter((p) => p.answer?.status === 'partial').map((p) => p.ms)
    return {
      ms: upload.ms, mbps: mbps(ctx.size, upload.ms), finalizeMs: upload.complete.ms, saveMs: save.ms,
      medianPostMs: median(plainPosts), medianTestMs: median(upload.tests.map((t) => t.ms)),
      shaOk: sha === ctx.sha, usage, problems: upload.problems, requests: upload.posts.length + upload.tests.length,
      memLog: server.log.filter((l) => l.startsWith('[out] MEM ')).map((l) => l.slice(10)),
      serverErrors: server.log.filter((l) => /error|warn/i.test(l) && !/default password/.test(l)).slice(0, 20),
    }
  } finally {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * AdminJS without the plugin (bench/adminjs-alone-server.mjs: the example app's resource, database,
 * session store and router, no adminjs-resumable), measured like ours right after logging in: what
 * any AdminJS app occupies before a single byte is uploaded. No upload, so only "base RSS".
 */
async function runAdminjsAlone(ctx, settings) {
  const dir = join(ctx.work, `alone-${randomBytes(4).toString('hex')}`)
  await mkdir(dir, { recursive: true })
  const { BENCH_NODE_ARGS, ...env } = settings
  const server = await startServer('adminjs-alone', join(here, 'adminjs-alone-server.mjs'), { ...env, DATABASE_FILE: join(dir, 'db.sqlite') }, BENCH_NODE_ARGS ? BENCH_NODE_ARGS.split(' ') : [])
  try {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    await logIn(agent, `http://127.0.0.1:${server.port}`)
    agent.destroy()
    const status = await procStatus(server.pid)
    const baselineMiB = (status?.rss ?? NaN) / MiB
    return { ms: NaN, mbps: NaN, finalizeMs: NaN, saveMs: NaN, shaOk: null, problems: [], usage: { baselineMiB, hwmMiB: NaN, growthMiB: NaN, serverCpuS: NaN, clientCpuS: NaN } }
  } finally {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

async function runTus(ctx, chunkSize, parallelUploads = 1) {
  const dir = join(ctx.work, `tus-${randomBytes(4).toString('hex')}`)
  await mkdir(dir, { recursive: true })
  const server = await startServer('tus', join(here, 'tus-server.mjs'), { TUS_DIR: dir })
  try {
    const sampler = await usageSampler(server.pid)
    const { url, ms, patches, lastPatch, clientCpuS } = await inClientProcess('tus', {
      endpoint: `http://127.0.0.1:${server.port}/files`, file: ctx.source, size: ctx.size, chunkSize, parallelUploads,
    }, track)
    const usage = await sampler.stop(clientCpuS)
    const id = url.split('/').pop()
    const sha = await sha256File(join(dir, id))
    return {
      ms, mbps: mbps(ctx.size, ms), finalizeMs: lastPatch?.ms ?? NaN, saveMs: NaN, medianPostMs: median(patches.slice(0, -1)),
      shaOk: sha === ctx.sha, usage, problems: [], requests: patches.length,
    }
  } finally {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

async function runPlain(ctx, chunkSize) {
  const dir = join(ctx.work, `plain-${randomBytes(4).toString('hex')}`)
  await mkdir(dir, { recursive: true })
  const server = await startServer('plain', join(here, 'plain-server.mjs'), { PLAIN_DIR: dir, CHUNK_SIZE: String(chunkSize) })
  try {
    const sampler = await usageSampler(server.pid)
    const upload = await inClientProcess('resumable', {
      target: `http://127.0.0.1:${server.port}/upload`,
      file: ctx.source, size: ctx.size, chunkSize,
      identifier: `${ctx.size}-benchbin-${randomBytes(4).toString('hex')}`,
    }, track)
    const usage = await sampler.stop(upload.clientCpuS)
    if (!upload.complete?.path) throw new Error(`plain: no completing answer; problems: ${JSON.stringify(upload.problems.slice(0, 5))}`)
    const sha = await sha256File(upload.complete.path)
    const plainPosts = upload.posts.filter((p) => p.answer?.status === 'partial').map((p) => p.ms)
    return {
      ms: upload.ms, mbps: mbps(ctx.size, upload.ms), finalizeMs: Number(upload.complete.headers['x-concat-ms']),
      completingPostMs: upload.complete.ms, saveMs: NaN, medianPostMs: median(plainPosts),
      medianTestMs: median(upload.tests.map((t) => t.ms)),
      shaOk: sha === ctx.sha, usage, problems: upload.problems, requests: upload.posts.length + upload.tests.length,
    }
  } finally {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

async function runDisk(ctx) {
  const file = join(ctx.work, `disk-${randomBytes(4).toString('hex')}.bin`)
  try {
    const out = spawnSync(process.execPath, [join(here, 'disk-writer.mjs')], {
      env: { ...process.env, FILE: file, SIZE: String(ctx.size), BLOCK: String(MiB) }, encoding: 'utf8',
    })
    if (out.status !== 0) throw new Error(`disk writer failed: ${out.stderr}`)
    const r = JSON.parse(out.stdout.trim().split('\n').pop())
    return { ms: r.ms, mbps: mbps(ctx.size, r.ms), writeOnlyMbps: mbps(ctx.size, r.writeMs), fsyncMs: r.fsyncMs, finalizeMs: r.fsyncMs, saveMs: NaN, shaOk: null, usage: null, problems: [] }
  } finally {
    await rm(file, { force: true })
  }
}

// ---------------------------------------------------------------- main
/**
 * How `npm start` runs the example app (package.json's start script: environment assignments and
 * node flags in front of example-app/server.js), so that "ours" measures exactly that.
 */
function npmStartSettings() {
  const script = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).scripts.start
  const m = /(?:^|&&\s*)((?:[A-Z_]+=\S+\s+)*)node\s+((?:--\S+\s+)*)example-app\/server\.js/.exec(script)
  if (!m) throw new Error(`package.json's start script no longer runs "node ... example-app/server.js": ${script}`)
  const env = Object.fromEntries(m[1].trim().split(/\s+/).filter(Boolean).map((kv) => kv.split('=')))
  const nodeArgs = m[2].trim().split(/\s+/).filter(Boolean)
  return { ...env, ...(nodeArgs.length ? { BENCH_NODE_ARGS: nodeArgs.join(' ') } : {}) }
}
const NPM_START = npmStartSettings()
const PEERS = {
  // The example app as `npm start` runs it (its memory settings: docs/production.md), with its
  // defaults: the file's SHA-256 recorded, and every chunk sent with its SHA-256 as the edit component does.
  ours: (ctx, cs) => runOurs(ctx, cs, opts.oursServer, { ...NPM_START, ...opts.oursEnv }),
  // The same defaults with a client in Resumable.js's default multipart mode (plain Resumable.js,
  // curl -F): what the multipart parsing costs.
  'ours-multipart': (ctx, cs) => runOurs(ctx, cs, opts.oursServer, { ...NPM_START, ...opts.oursEnv, BENCH_CLIENT_METHOD: 'multipart' }),
  // The same with checksums off (no file SHA-256, no chunk digests): what integrity costs.
  'ours-off': (ctx, cs) => runOurs(ctx, cs, opts.oursServer, { ...NPM_START, ...opts.oursEnv, CHECKSUMS: 'off' }),
  // The same defaults without the cross-site guard and the body guard (bench/no-guards-server.mjs):
  // what the guards add per chunk request.
  'ours-noguards': (ctx, cs) => runOurs(ctx, cs, join(here, 'no-guards-server.mjs'), { ...NPM_START, ...opts.oursEnv }),
  // The same app with node's defaults: what the plugin does in an app started without those settings.
  'ours-defaults': (ctx, cs) => runOurs(ctx, cs, opts.oursServer, opts.oursEnv),
  tus: (ctx, cs) => runTus(ctx, cs, 1),
  'tus-par3': (ctx, cs) => runTus(ctx, cs, 3),
  plain: (ctx, cs) => runPlain(ctx, cs),
  disk: (ctx) => runDisk(ctx),
  'adminjs-alone': (ctx) => runAdminjsAlone(ctx, NPM_START),
  ...s3Peers({
    here, oursServer: opts.oursServer, npmStart: NPM_START, startServer, usageSampler, cpuSeconds, logIn, saveDocument,
    inClientProcess: (client, options) => inClientProcess(client, options, track), makeSource, median, mbps,
  }),
  ...browserPeers({
    projectRoot, oursServer: opts.oursServer, npmStart: NPM_START, startServer, usageSampler, cpuSeconds, median, mbps, sha256File,
    track: (child) => children.add(child), profile: opts.browserProfile, browserDev: !!opts.browserDev,
    traceDir: opts.browserTrace ? join(here, '.tmp', 'trace') : null, cpuProfDir: opts.cpuProf ? join(here, '.tmp', 'prof') : null,
  }),
}

function fmt(n, digits = 0) {
  return Number.isFinite(n) ? n.toFixed(digits) : '-'
}
function sizeLabel(bytes) {
  return bytes % (1024 * MiB) === 0 ? `${bytes / 1024 / MiB} GiB` : bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} B`
}

async function main() {
  // Prototypes of changes (a patched copy of the example app / lib under bench/.tmp, never src):
  // --proto NAME --proto-server SCRIPT --proto-env K=V ... adds a row "ours-NAME".
  for (const proto of opts.protos) {
    if (!proto.script) throw new Error(`${proto.name} needs --proto-server <script>`)
    PEERS[proto.name] = (ctx, cs) => runOurs(ctx, cs, proto.script, proto.env)
  }
  const s3Wanted = opts.s3 ?? (opts.only ? opts.only.some((p) => S3_PEERS.includes(p)) : s3rverInstalled(projectRoot))
  let peers = (opts.only ?? ['ours', 'ours-off', 'ours-multipart', 'ours-noguards', 'ours-defaults', 'tus', 'plain', 'disk', 'adminjs-alone', ...opts.protos.map((p) => p.name), ...(opts.tusParallel ? ['tus-par3'] : []), ...(s3Wanted ? S3_PEERS : []), ...BROWSER_PEERS])
  for (const peer of peers) if (!PEERS[peer]) throw new Error(`Unknown peer ${peer} (known: ${Object.keys(PEERS).join(', ')})`)
  if (!s3Wanted) peers = peers.filter((p) => !S3_PEERS.includes(p))
  const s3Notes = []
  peers = selectBrowserPeers(peers, { browser: opts.browser, only: opts.only, profile: opts.browserProfile, s3: opts.s3, s3Installed: s3rverInstalled(projectRoot), chunks: opts.chunks, notes: s3Notes })
  if (peers.some((p) => S3_PEERS.includes(p))) {
    if (!s3rverInstalled(projectRoot)) {
      s3Notes.push('S3 rows: not available: s3rver is not installed (npm install)')
      peers = peers.filter((p) => !S3_PEERS.includes(p))
    } else if (!opts.chunks.some((c) => c >= MIN_PART_SIZE)) {
      s3Notes.push(`S3 rows: not available: they need a chunk size of at least ${sizeLabel(MIN_PART_SIZE)} (S3's smallest part); --chunks gave ${opts.chunks.map(sizeLabel).join(', ')}`)
      peers = peers.filter((p) => !S3_PEERS.includes(p))
    }
  }
  for (const note of s3Notes) console.log(note)
  const main4 = peers.filter((p) => p !== 'tus-par3')
  const extra = peers.filter((p) => p === 'tus-par3')
  for (const f of ['lib/index.js', 'components/dist']) {
    if (!existsSync(join(projectRoot, f))) throw new Error(`${f} is missing: run npm run build first`)
  }
  workDir = await mkdtemp(join(tmpdir(), 'adminjs-resumable-bench-'))
  const ctx = { work: workDir, size: opts.size, source: join(workDir, 'source.bin') }
  console.log(`bench: ${sizeLabel(opts.size)} file, chunk sizes ${opts.chunks.map(sizeLabel).join(', ')}, ${opts.rounds} round(s), peers ${peers.join(', ')}; work dir ${workDir}`)
  ctx.sha = await makeSource(ctx.source, ctx.size)
  console.log(`source sha256 ${ctx.sha}`)
  if (peers.some((p) => S3_PEERS.includes(p))) {
    ctx.s3 = await startS3rver({ projectRoot, dir: join(workDir, 's3rver'), track: (child) => children.add(child) })
    console.log(`s3rver ${ctx.s3.endpoint} (data in ${ctx.s3.dir}); S3 rows at chunk sizes ${opts.chunks.filter((c) => c >= MIN_PART_SIZE).map(sizeLabel).join(', ')}`)
  }
  const started = performance.now()

  const runs = []
  const unsupported = {}
  let slot = 0
  for (let round = 1; round <= opts.rounds; round++) {
    for (const chunkSize of opts.chunks) {
      const shift = slot++ % main4.length
      const order = [...main4.slice(shift), ...main4.slice(0, shift), ...extra]
      for (const peer of order) {
        if (unsupported[peer]) continue
        if ((S3_PEERS.includes(peer) || BROWSER_S3_PEERS.includes(peer)) && chunkSize < MIN_PART_SIZE) continue
        ctx.cachesDropped = resetKernelCaches(ctx.source)
        const label = `round ${round} ${sizeLabel(chunkSize)} ${peer}`
        try {
          const r = await PEERS[peer](ctx, chunkSize)
          runs.push({ round, chunkSize, peer, load1: loadavg()[0], cachesDropped: ctx.cachesDropped, ...r })
          const mem = r.usage ? ` rss base ${fmt(r.usage.baselineMiB)} peak ${fmt(r.usage.hwmMiB)} MiB cpu server ${fmt(r.usage.serverCpuS, 2)} s client ${fmt(r.usage.clientCpuS, 2)} s` : ''
          console.log(`${label}: ${fmt(r.mbps, 1)} MB/s (${fmt(r.ms)} ms) finalize ${fmt(r.finalizeMs, 1)} ms save ${fmt(r.saveMs, 1)} ms${mem}`
            + `${r.shaOk === false ? ' SHA MISMATCH' : r.shaOk ? ' sha ok' : ''}${r.problems?.length ? ` problems ${r.problems.length}` : ''}`)
          if (r.problems?.length) console.log(`  first problems: ${JSON.stringify(r.problems.slice(0, 3))}`)
          if (r.serverErrors?.length) console.log(`  server log: ${r.serverErrors.slice(0, 5).join(' | ')}`)
        } catch (error) {
          if (error instanceof NotAvailable) {
            console.log(`${peer}: not available: ${error.message}`)
            for (const p of error.peers) unsupported[p] = `not available: ${error.message}`
            continue
          }
          console.log(`${label}: FAILED ${String(error?.message ?? error).split('\n').slice(0, 6).join(' / ')}`)
          runs.push({ round, chunkSize, peer, cachesDropped: ctx.cachesDropped, error: String(error?.message ?? error).slice(0, 2000) })
          if (peer === 'tus-par3') unsupported[peer] = String(error?.message ?? error).slice(0, 500)
        }
      }
    }
  }

  // ---- summary
  const summary = []
  for (const chunkSize of opts.chunks) {
    const of = (peer) => runs.filter((r) => r.peer === peer && r.chunkSize === chunkSize && !r.error)
    const med = (peer, key) => median(of(peer).map((r) => r[key]))
    const tusMbps = med('tus', 'mbps')
    const diskMbps = med('disk', 'mbps')
    for (const peer of peers.filter((p) => !S3_PEERS.includes(p) && !BROWSER_PEERS.includes(p))) {
      const ok = of(peer)
      const failed = runs.filter((r) => r.peer === peer && r.chunkSize === chunkSize && r.error)
      const m = med(peer, 'mbps')
      const usages = ok.map((r) => r.usage).filter(Boolean)
      summary.push({
        server: peer, chunkSize, runs: ok.length, failed: failed.length,
        mbps: m, ratioTus: m / tusMbps, ratioDisk: m / diskMbps,
        peakRssMiB: usages.length ? Math.max(...usages.map((x) => x.hwmMiB)) : NaN,
        baselineRssMiB: usages.length ? median(usages.map((x) => x.baselineMiB)) : NaN,
        growthRssMiB: usages.length ? Math.max(...usages.map((x) => x.growthMiB)) : NaN,
        serverCpuS: usages.length ? median(usages.map((x) => x.serverCpuS)) : NaN,
        clientCpuS: usages.length ? median(usages.map((x) => x.clientCpuS)) : NaN,
        finalizeMs: med(peer, 'finalizeMs'), saveMs: med(peer, 'saveMs'), medianPostMs: med(peer, 'medianPostMs'),
        shaOk: ok.every((r) => r.shaOk !== false), noSha: ok.every((r) => r.shaOk === null), problems: ok.reduce((n, r) => n + (r.problems?.length ?? 0), 0),
        error: failed[0]?.error?.split('\n')[0],
      })
    }
  }
  const head = ['server', 'chunk', 'MB/s (median)', 'x tus', 'x disk', 'peak RSS MiB', 'base RSS MiB', 'RSS growth MiB', 'server CPU s', 'client CPU s', 'finalize ms', 'save ms', 'chunk req ms', 'sha256', 'runs']
  const rows = summary.map((s) => [
    s.server, sizeLabel(s.chunkSize), fmt(s.mbps, 1), fmt(s.ratioTus, 2), fmt(s.ratioDisk, 2), fmt(s.peakRssMiB), fmt(s.baselineRssMiB), fmt(s.growthRssMiB), fmt(s.serverCpuS, 2), fmt(s.clientCpuS, 2),
    fmt(s.finalizeMs, 1), fmt(s.saveMs, 1), fmt(s.medianPostMs, 1),
    !s.runs || s.noSha ? '-' : s.shaOk ? 'ok' : 'MISMATCH', s.failed ? `${s.runs} (+${s.failed} failed)` : String(s.runs),
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  const table = [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')
  console.log(`\n${sizeLabel(opts.size)} file, ${opts.rounds} round(s), medians; MB/s = 10^6 bytes/s; "x tus" = / tus-js-client sequential on @tus/server+file-store`)
  const dropped = runs.filter((r) => r.cachesDropped).length
  console.log(dropped === runs.length ? 'kernel caches dropped before every run' : `kernel caches NOT dropped before ${runs.length - dropped} of ${runs.length} runs (needs root): results depend on what earlier work left in them`)
  if (rows.length) console.log(table)
  for (const s of summary) if (s.error) console.log(`${s.server} ${sizeLabel(s.chunkSize)}: ${s.error}`)

  let s3 = null
  if (ctx.s3) {
    await ctx.s3.stop()
    s3 = s3Summary(runs, { chunks: opts.chunks, peers, unsupported, median, fmt, sizeLabel })
    console.log(`\nS3 rows, one s3rver (${ctx.s3.endpoint}) for all; parts = chunk size; "x tus-s3" = / tus-js-client on @tus/server+@tus/s3-store, "x direct-s3" = / lib-storage Upload straight to s3rver (3 parts in flight)`)
    console.log(s3.table)
    for (const line of s3.lines) console.log(line)
    for (const s of s3.summary) if (s.error) console.log(`${s.server} ${sizeLabel(s.chunkSize)}: ${s.error}`)
  }
  const browser = peers.some((p) => BROWSER_PEERS.includes(p)) ? browserSummary(runs, { chunks: opts.chunks, peers, unsupported, median, fmt, sizeLabel }) : null
  if (browser?.localTable) console.log(`\nBrowser rows, headless Chromium: the edit component (chunk digests on) against bare Resumable.js 1.1.0 with the component's options; MB/s from the pick to the reference; "x bare" = / chromium-bare\n${browser.localTable}`)
  if (browser?.s3Table) console.log(`\nBrowser rows on S3 (s3rver): the edit component through the app's route against S3_UPLOAD=direct; "x app route" = / chromium-s3-app; app read/write = /proc/<pid>/io rchar/wchar of the app per GiB uploaded\n${browser.s3Table}`)
  for (const line of browser?.lines ?? []) console.log(line)
  for (const [peer, why] of Object.entries(unsupported)) if (peers.includes(peer) && why.startsWith('not available')) console.log(`${peer}: ${why}`)
  for (const note of s3Notes) console.log(note)
  console.log(`rounds took ${fmt((performance.now() - started) / 1000)} s`)

  const result = {
    date: new Date().toISOString(),
    command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    environment: {
      node: process.version, clientNodeFlags: CLIENT_NODE_FLAGS.join(' '), cpus: cpus().length, cpu: cpus()[0]?.model, kernel: release(), memGiB: +(totalmem() / 1024 ** 3).toFixed(1),
      commit: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectRoot, encoding: 'utf8' }).stdout.trim(),
      tusServer: JSON.parse(readFileSync(join(projectRoot, 'node_modules/@tus/server/package.json'), 'utf8')).version,
      tusFileStore: JSON.parse(readFileSync(join(projectRoot, 'node_modules/@tus/file-store/package.json'), 'utf8')).version,
      tusJsClient: JSON.parse(readFileSync(join(projectRoot, 'node_modules/tus-js-client/package.json'), 'utf8')).version,
      ...(ctx.s3 ? Object.fromEntries(['@tus/s3-store', 's3rver', '@aws-sdk/lib-storage', '@aws-sdk/client-s3'].map((p) => [p, JSON.parse(readFileSync(join(projectRoot, 'node_modules', p, 'package.json'), 'utf8')).version])) : {}),
    },
    options: { ...opts }, size: opts.size, sha256: ctx.sha, table, summary,
    s3: s3 ? { table: s3.table, summary: s3.summary, lines: s3.lines } : null, notes: s3Notes,
    browser: browser ? { localTable: browser.localTable, s3Table: browser.s3Table, summary: browser.summary, lines: browser.lines } : null,
    runs: runs.map(({ ...r }) => r), unsupported,
  }
  const outDir = join(here, 'results')
  mkdirSync(outDir, { recursive: true })
  const text = JSON.stringify(result, null, 2)
  writeFileSync(opts.out ?? join(outDir, 'latest.json'), text)
  if (!opts.out) writeFileSync(join(outDir, `latest-${sizeLabel(opts.size).replace(' ', '')}.json`), text)
  console.log(`\nwrote ${opts.out ?? join(outDir, 'latest.json')}`)
}

try {
  await main()
} finally {
  cleanupSync()
}
// Lingering sockets or streams of the clients must not keep the process alive.
process.exit(0)
