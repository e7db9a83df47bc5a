// The browser rows of `npm run bench`: headless Debian Chromium uploading the bench's file into the
// example app (started as `npm start` starts it, each run a fresh app, database and browser), in
// production mode as docs/production.md deploys it: AdminJS's bundles prebuilt once per bench run
// by example-app/bundle.js (minified, React's production build), served with NODE_ENV=production
// ADMIN_JS_SKIP_BUNDLE=true. `--browser-dev` runs the app as `npm start` does instead: AdminJS
// bundles at start-up in development mode (React's development build, its checks on every render).
// - chromium-edit: the real edit component on a record's edit page (chunk digests on, as shipped);
// - chromium-bare: the same server, a page with nothing but Resumable.js 1.1.0 from node_modules and
//   the component's own options (resumableOptions from components/dist) without the digests;
// - chromium-edit-nodigest (diagnostic): the edit component on a page without crypto.subtle.digest,
//   so it sends no digests: what the component costs apart from hashing;
// - chromium-s3-app / chromium-s3-direct: the edit component with S3 storage on the bench's s3rver,
//   chunks through the app's route / PUT straight to the bucket (S3_UPLOAD=direct), for issue #20.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { CREDENTIALS, MAX_PARTS, MIN_PART_SIZE, NotAvailable, emptyBucket, listKeys, objectSha256, startS3rver } from '../s3.mjs'
import { chromiumCpu, chromiumMissing, launchChromium } from './chromium.mjs'
import { barePage, collect, instrument, startBare, watchComponent } from './pages.mjs'
import { traceOf } from './trace.mjs'
import { monotonicUs, profileWindow } from './prof-window.mjs'

export const BROWSER_PEERS = ['chromium-edit', 'chromium-bare', 'chromium-edit-nodigest', 'chromium-s3-app', 'chromium-s3-direct']
/** Diagnostic: in the default set only with --browser-profile. */
const DIAGNOSTIC_PEERS = ['chromium-edit-nodigest']
export const BROWSER_S3_PEERS = ['chromium-s3-app', 'chromium-s3-direct']
const MiB = 1024 * 1024
/** No upload of the bench's file takes this long unless something is stuck. */
const UPLOAD_TIMEOUT_MS = 15 * 60_000

/** Bytes the process read and wrote through read()/write() syscalls (sockets, pipes, files): /proc/<pid>/io. */
function procIo(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/io`, 'utf8')
    const field = (key) => Number(new RegExp(`^${key}: (\\d+)`, 'm').exec(text)?.[1] ?? NaN)
    return { rchar: field('rchar'), wchar: field('wchar') }
  } catch {
    return { rchar: NaN, wchar: NaN }
  }
}

async function logIn(page, base) {
  await page.goto(`${base}/admin/login`)
  await page.fill('input[name=email]', 'admin@example.com')
  await page.fill('input[name=password]', 'password')
  await Promise.all([page.waitForURL((url) => !url.pathname.endsWith('/login')), page.click('form[action$="/login"] button')])
}

/** A record to edit, created with the AdminJS API from the page (its session). */
async function createRecord(page) {
  const created = await page.evaluate(async () => {
    const form = new FormData()
    form.append('title', 'bench')
    const res = await fetch('/admin/api/resources/Document/actions/new', { method: 'POST', body: form })
    return { status: res.status, text: await res.text() }
  })
  const id = created.status === 200 ? JSON.parse(created.text)?.record?.id : null
  if (!id) throw new Error(`creating the record failed: ${created.status} ${created.text.slice(0, 300)}`)
  return id
}

/** A port free now: production pages load their bundles from an absolute URL, so the port is fixed before start. */
async function freePort() {
  const server = createServer()
  await new Promise((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address()
  await new Promise((done) => server.close(done))
  return port
}

/** AdminJS's bundles for production, built once per bench run (example-app/bundle.js, as `npm run bundle`). */
function productionBundles(ctx, h) {
  ctx.productionBundles ??= (async () => {
    const assets = join(ctx.work, 'admin-assets')
    const env = { ADMIN_ASSETS_DIR: assets, ADMIN_JS_TMP_DIR: join(ctx.work, 'adminjs-bundle'), DATABASE_FILE: join(ctx.work, 'bundle.sqlite'), UPLOAD_DIR: join(ctx.work, 'bundle-uploads') }
    const started = performance.now()
    const child = spawn(process.execPath, [join(h.projectRoot, 'example-app', 'bundle.js')], { cwd: h.projectRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    h.track?.(child)
    let output = ''
    child.stdout.on('data', (d) => { output += d })
    child.stderr.on('data', (d) => { output += d })
    const code = await new Promise((done) => child.on('exit', done))
    if (code !== 0) throw new Error(`building AdminJS's production bundles (example-app/bundle.js) failed (${code}):\n${output.slice(-2000)}`)
    console.log(`  AdminJS production bundles built in ${((performance.now() - started) / 1000).toFixed(0)} s: ${assets}`)
    return { NODE_ENV: 'production', ADMIN_JS_SKIP_BUNDLE: 'true', ADMIN_ASSETS_DIR: assets }
  })()
  return ctx.productionBundles
}

/** The edit action's API, as the form posts it: how the bare row saves (untimed; it only proves the bytes). */
async function saveByApi(page, id, reference) {
  return page.evaluate(async ({ id, reference }) => {
    const form = new FormData()
    form.append('title', 'bench')
    form.append('file', reference)
    const res = await fetch(`/admin/api/resources/Document/records/${id}/edit`, { method: 'POST', body: form })
    return { status: res.status, text: (await res.text()).slice(0, 400) }
  }, { id, reference })
}

function withTimeout(promise, ms, what) {
  let timer
  return Promise.race([promise, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms) })])
    .finally(() => clearTimeout(timer))
}

/**
 * The chunk requests of the page, by chunk: Resumable.js sends the test GET before the POST of a
 * chunk, so the last request of a chunk number is its POST (Resource Timing has no method).
 */
function chunkTraffic(requests, base) {
  const byChunk = new Map()
  let toBucket = 0
  for (const [name, start, end] of requests) {
    const url = new URL(name)
    if (url.origin !== base) { toBucket++; continue }
    const n = url.searchParams.get('resumableChunkNumber')
    if (!n) continue
    const list = byChunk.get(n) ?? []
    list.push({ start, end, digest: url.searchParams.has('resumableChunkSha256') })
    byChunk.set(n, list)
  }
  const all = [...byChunk.values()].flat()
  const posts = [...byChunk.values()].filter((l) => l.length > 1).map((l) => l.at(-1))
  return { chunks: byChunk.size, requests: all.length, withDigest: all.filter((r) => r.digest).length, posts, toBucket }
}

/**
 * The browser rows to run: all by default, none with --no-browser; without Chromium none, said
 * loudly (into `notes`, printed before and after the tables). The S3 ones need s3rver and chunks of
 * at least 5 MiB, and stay out with --no-s3. The diagnostic ones run when named or when profiling.
 */
export function selectBrowserPeers(peers, { browser, only, profile, s3, s3Installed, chunks, notes }) {
  const isBrowser = (p) => BROWSER_PEERS.includes(p)
  if (browser === false || !peers.some(isBrowser)) return peers.filter((p) => !isBrowser(p))
  if (!only && !profile) peers = peers.filter((p) => !DIAGNOSTIC_PEERS.includes(p))
  const missing = chromiumMissing()
  if (missing) {
    notes.push(`!!! BROWSER ROWS SKIPPED (${peers.filter(isBrowser).join(', ')}): ${missing}`)
    return peers.filter((p) => !isBrowser(p))
  }
  const s3Why = s3 === false ? '--no-s3' : !s3Installed ? 's3rver is not installed (npm install)'
    : !chunks.some((c) => c >= MIN_PART_SIZE) ? 'they need a chunk size of at least 5 MiB' : null
  if (s3Why && peers.some((p) => BROWSER_S3_PEERS.includes(p))) {
    notes.push(`Browser S3 rows: not run: ${s3Why}`)
    return peers.filter((p) => !BROWSER_S3_PEERS.includes(p))
  }
  return peers
}

export function browserPeers(h) {
  const { BENCH_NODE_ARGS, ...settings } = h.npmStart

  /** The run's s3rver: the S3 rows' one when run.mjs started it, else one for the browser rows. */
  async function s3rverOf(ctx) {
    if (ctx.s3) return ctx.s3
    ctx.browserS3 ??= await startS3rver({ projectRoot: h.projectRoot, dir: join(ctx.work, 's3rver-browser'), track: h.track })
    return ctx.browserS3
  }

  async function run(ctx, chunkSize, { client, s3Upload = null, noDigest = false }) {
    if (s3Upload && chunkSize < MIN_PART_SIZE) throw new Error('S3 rows need chunks of at least 5 MiB')
    const missing = chromiumMissing()
    if (missing) throw new NotAvailable(missing, BROWSER_PEERS)
    const dir = join(ctx.work, `chromium-${randomBytes(4).toString('hex')}`)
    const uploadDir = join(dir, 'uploads')
    await mkdir(dir, { recursive: true })
    const s3 = s3Upload ? await s3rverOf(ctx) : null
    const bucket = s3 ? `bench-chromium-${randomBytes(4).toString('hex')}` : null
    // One folder per run: node writes a profile per thread (the hashing worker's too), named by pid and thread.
    const appProfiles = h.cpuProfDir ? join(h.cpuProfDir, `chromium-${client}${s3Upload ? `-s3-${s3Upload}` : ''}-${chunkSize / MiB}M-${Date.now()}`) : null
    const mode = h.browserDev ? {} : { ...(await productionBundles(ctx, h)), PORT: String(await freePort()), ADMIN_JS_TMP_DIR: join(dir, 'adminjs') }
    const server = await h.startServer(`chromium-${client}`, h.oursServer, {
      ...settings, ...mode, UPLOAD_DIR: uploadDir, DATABASE_FILE: join(dir, 'db.sqlite'), CHUNK_SIZE: String(chunkSize), SWEEP_INTERVAL_MS: '0',
      MAX_UPLOAD_SIZE: String(s3 ? chunkSize * MAX_PARTS : 64 * 1024 ** 3),
      ...(s3 ? {
        S3_BUCKET: bucket, S3_ENDPOINT: s3.endpoint, S3_REGION: 'us-east-1', S3_FORCE_PATH_STYLE: 'true',
        AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
        ...(s3Upload === 'direct' ? { S3_UPLOAD: 'direct' } : {}),
      } : {}),
    }, [
      ...(BENCH_NODE_ARGS ? BENCH_NODE_ARGS.split(' ') : []),
      ...(appProfiles ? ['--cpu-prof', `--cpu-prof-dir=${appProfiles}`] : []),
    ])
    let uploadSpanUs = null
    const chrome = await launchChromium()
    try {
      const base = `http://127.0.0.1:${server.port}`
      const page = await chrome.context.newPage()
      await page.addInitScript(instrument, { profile: !!h.profile, noDigest })
      await logIn(page, base)
      const id = await createRecord(page)
      await page.goto(`${base}/admin/resources/Document/records/${id}/edit`)
      await page.waitForSelector('[data-testid=resumable-input]', { state: 'attached' })
      const custom = await page.evaluate(() => window.REDUX_STATE.resources.find((r) => r.id === 'Document').properties.file.custom)
      let input = '[data-testid=resumable-input]'
      if (client === 'bare') {
        const { resumableOptions, fileIdentifier } = await import(join(h.projectRoot, 'components/dist/components/resumable-setup.js'))
        const { chunkUrl } = await import(join(h.projectRoot, 'components/dist/components/custom.js'))
        // JSON drops the functions: the digest hooks (preprocess, query) and the error callbacks.
        const options = JSON.parse(JSON.stringify(resumableOptions(custom, chunkUrl(custom, 'Document', 'file'))))
        await page.route(`${base}/bench-bare`, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: barePage(h.projectRoot) }))
        await page.goto(`${base}/bench-bare`)
        // No request interception left: the chunk requests go as on any page.
        await page.unrouteAll()
        await page.evaluate(startBare, { options, identifierSource: String(fileIdentifier) })
        input = '#pick'
      } else {
        await page.evaluate(watchComponent)
        if (process.env.BENCH_EDIT_PAGE_CSS) await page.addStyleTag({ content: process.env.BENCH_EDIT_PAGE_CSS })
      }

      const sampler = await h.usageSampler(server.pid)
      const serverCpu0 = await h.cpuSeconds(server.pid)
      const s3Cpu0 = s3 ? await h.cpuSeconds(s3.pid) : NaN
      const io0 = procIo(server.pid)
      const tracePath = h.traceDir ? join(h.traceDir, `${client}${noDigest ? '-nodigest' : ''}${s3Upload ? `-s3-${s3Upload}` : ''}-${chunkSize / MiB}M-${Date.now()}.json`) : null
      const trace = tracePath ? await traceOf(chrome.browser, page, tracePath) : null
      const jsProfile = tracePath ? await chrome.context.newCDPSession(page) : null
      if (jsProfile) {
        await jsProfile.send('Profiler.enable')
        await jsProfile.send('Profiler.start')
      }
      const browserCpu = chromiumCpu()
      const pickedUs = monotonicUs()
      await page.setInputFiles(input, ctx.source)
      const end = await withTimeout(page.evaluate(() => window.__bench.done), UPLOAD_TIMEOUT_MS, 'the upload')
      uploadSpanUs = [pickedUs, monotonicUs()]
      const browserCpuS = browserCpu.seconds()
      const traceSummary = trace ? await trace.stop() : null
      if (traceSummary) console.log(`  trace ${tracePath}: ${JSON.stringify(traceSummary)}`)
      if (jsProfile) {
        // The page's JavaScript profile beside the trace: node bench/prof-summary.mjs <file>.
        const { profile } = await jsProfile.send('Profiler.stop')
        await writeFile(tracePath.replace(/\.json$/, '.cpuprofile'), JSON.stringify(profile))
      }
      const serverCpuS = (await h.cpuSeconds(server.pid)) - serverCpu0
      const s3CpuS = s3 ? (await h.cpuSeconds(s3.pid)) - s3Cpu0 : NaN
      const io1 = procIo(server.pid)
      const timing = await page.evaluate(collect)
      if (end.state !== 'complete') throw new Error(`the upload ended ${end.state}: ${end.message ?? ''}`)
      const ms = end.at - timing.pickedAt
      const traffic = chunkTraffic(timing.requests, base)
      if (s3Upload === 'direct' && traffic.toBucket === 0) {
        throw new NotAvailable('the example app does not upload direct yet: with S3_UPLOAD=direct no request went to the bucket', ['chromium-s3-direct'])
      }

      let saveMs = NaN
      if (client === 'edit') {
        const from = page.url()
        const started = performance.now()
        await Promise.all([page.waitForURL((url) => url.href !== from, { timeout: 300_000 }), page.click('form button[type=submit]')])
        saveMs = performance.now() - started
      } else {
        const saved = await saveByApi(page, id, end.reference)
        if (saved.status !== 200) throw new Error(`save failed: ${saved.status} ${saved.text}`)
      }
      const usage = await sampler.stop()
      const params = await page.evaluate(async (id) => (await (await fetch(`/admin/api/resources/Document/records/${id}/show`)).json()).record.params, id)
      if (!params?.filePath) throw new Error(`the saved record names no file: ${JSON.stringify(params).slice(0, 300)}`)
      let sha
      if (s3) {
        const keys = await listKeys(s3.client, bucket)
        const key = keys.find((k) => k === params.filePath) ?? keys.find((k) => k.endsWith(`/${params.filePath}`))
        if (!key) throw new Error(`the saved filePath ${params.filePath} is not in bucket ${bucket}`)
        sha = await objectSha256(s3.client, bucket, key)
      } else {
        sha = await h.sha256File(join(uploadDir, params.filePath))
      }
      const posts = traffic.posts.map((p) => p.end - p.start)
      return {
        ms, mbps: h.mbps(ctx.size, ms), saveMs, browserCpuS, serverCpuS, s3CpuS, usage,
        appReadBytes: io1.rchar - io0.rchar, appWriteBytes: io1.wchar - io0.wchar,
        medianPostMs: h.median(posts), postsInFlight: posts.reduce((a, b) => a + b, 0) / ms,
        chunks: traffic.chunks, requests: traffic.requests, withDigest: traffic.withDigest, toBucket: traffic.toBucket,
        readMs: timing.reads.map(([a, b]) => b - a), digestMs: timing.digests.map(([a, b]) => b - a),
        fileSize: ctx.size, shaOk: sha === ctx.sha, checksumOk: params.fileChecksum ? params.fileChecksum === ctx.sha : null,
        problems: [], chromium: chrome.version, traceSummary, appMode: h.browserDev ? 'development' : 'production',
        serverErrors: server.log.filter((l) => /error|warn/i.test(l) && !/default password/.test(l)).slice(0, 20),
      }
    } finally {
      await chrome.close()
      await server.stop()
      if (appProfiles && uploadSpanUs) {
        const main = readdirSync(appProfiles).find((f) => f.includes(`.${server.pid}.0.`))
        const span = main ? profileWindow(join(appProfiles, main), ...uploadSpanUs) : { error: `no main-thread profile in ${appProfiles}` }
        console.log(`  app profile (main thread) during the upload, ${appProfiles}/${main}: ${JSON.stringify(span)}`)
      }
      if (s3) await emptyBucket(s3.client, bucket, { remove: true }).catch(() => undefined)
      await rm(dir, { recursive: true, force: true })
    }
  }

  return {
    'chromium-edit': (ctx, cs) => run(ctx, cs, { client: 'edit' }),
    'chromium-bare': (ctx, cs) => run(ctx, cs, { client: 'bare' }),
    'chromium-edit-nodigest': (ctx, cs) => run(ctx, cs, { client: 'edit', noDigest: true }),
    'chromium-s3-app': (ctx, cs) => run(ctx, cs, { client: 'edit', s3Upload: 'app' }),
    'chromium-s3-direct': (ctx, cs) => run(ctx, cs, { client: 'edit', s3Upload: 'direct' }),
  }
}
