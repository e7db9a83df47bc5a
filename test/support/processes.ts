/**
 * Real processes for fault tests: the example app (`node example-app/server.js`, which imports the
 * package's compiled `lib/` through its public entry) in a child process, and an HTTP client that
 * speaks the Resumable.js 1.1.0 protocol to it the way the browser library does.
 *
 *   const server = await startServer({ UPLOAD_DIR, DATABASE_FILE, CHUNK_SIZE })
 *   const client = await HttpClient.login(server.url, 'admin@example.com')
 *   const run = await resumableUpload(client, file)
 *   await stopAllServers()   // in afterEach/afterAll: SIGKILLs whatever is still running
 *
 * Every child started here is tracked and killed by `stopAllServers()` and, as a last resort, when
 * the test process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { newest, productionBundles } from './production-bundles.mjs'
import { chunkBytes, chunkParams, countOf, type FileSpec } from './resumable-client.js'
import type { DocumentParams } from './document.js'

const here = dirname(fileURLToPath(import.meta.url))
export const REPO = resolve(here, '..', '..')
const SERVER = join(REPO, 'example-app', 'server.js')
export const ENDPOINT = '/admin/api/resumable/Document/file'
export const XHR = { 'X-Requested-With': 'XMLHttpRequest' }
/** What the package's edit component gives Resumable.js as `permanentErrors`. */
export const PERMANENT_ERRORS = [400, 401, 403, 404, 409, 410, 413, 415, 429, 500, 501]

// ---------------------------------------------------------------------------------------------
// Child processes

export interface ServerProcess {
  pid: number
  port: number
  url: string
  env: Record<string, string>
  child: ChildProcess
  /** stdout + stderr so far. */
  output(): string
  alive(): boolean
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Sends the signal and waits for the process to be gone (SIGKILL after `graceMs` otherwise). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** VmRSS from /proc/<pid>/status, in KiB, or null when unavailable. */
  rssKiB(): number | null
}

const live = new Set<ServerProcess>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const server of live) {
      try {
        server.child.kill('SIGKILL')
      } catch { /* already gone */ }
    }
  })
}

/** The most recently modified file under `dir` ending in `ext`. */
let libChecked = false
/** The child imports lib/: warn loudly when src/ has changed since the last build. */
function warnIfLibStale(): void {
  if (libChecked) return
  libChecked = true
  try {
    const src = newest(join(REPO, 'src'), '.ts')
    const lib = newest(join(REPO, 'lib'), '.js')
    if (src.time > lib.time) {
      console.warn(`\n!!! lib/ is older than ${src.file}: child-process tests run the compiled lib/; run \`npm run build\`.\n`)
    }
  } catch (error) {
    console.warn(`\n!!! lib/ is missing (${String(error)}): run \`npm run build\` before the child-process tests.\n`)
  }
}

export interface StartOptions {
  /** Run the server as this user (e.g. 65534, nobody) so that file permissions apply to it. */
  uid?: number
  gid?: number
  timeoutMs?: number
}

/**
 * Starts the example app with `env` (plus PORT=0 unless given) and resolves once it printed
 * `LISTENING <port>`. Production mode with bundles built once (productionBundles): several servers
 * must not rebuild the shared `.adminjs` bundle at once.
 */
export async function startServer(env: Record<string, string>, options: StartOptions = {}): Promise<ServerProcess> {
  installExitHook()
  warnIfLibStale()
  const fullEnv: Record<string, string> = {
    PORT: '0',
    SWEEP_INTERVAL_MS: '0',
    NODE_ENV: 'production',
    ADMIN_JS_SKIP_BUNDLE: 'true',
    ADMIN_ASSETS_DIR: env.ADMIN_ASSETS_DIR ?? await productionBundles(),
    ...env,
  }
  const child = spawn(process.execPath, [SERVER], {
    cwd: REPO,
    env: { ...process.env, NODE_OPTIONS: '', ...fullEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid ?? options.uid } : {}),
  })
  let output = ''
  let exitedFlag = false
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.once('exit', (code, signal) => {
      exitedFlag = true
      done({ code, signal })
    })
  })
  const server: ServerProcess = {
    pid: child.pid!,
    port: 0,
    url: '',
    env: fullEnv,
    child,
    output: () => output,
    alive: () => !exitedFlag,
    exited,
    async stop(signal = 'SIGTERM', graceMs = 5000) {
      if (!exitedFlag) {
        child.kill(signal)
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
        await exited
        clearTimeout(timer)
      }
      live.delete(server)
      return exited
    },
    rssKiB() {
      try {
        const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
        return match ? Number(match[1]) : null
      } catch {
        return null
      }
    },
  }
  live.add(server)
  void exited.then(() => live.delete(server))
  try {
    server.port = await new Promise<number>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`server did not print LISTENING within ${options.timeoutMs ?? 60_000} ms:\n${output}`)), options.timeoutMs ?? 60_000)
      const onData = (data: Buffer) => {
        output += String(data)
        const match = /^LISTENING (\d+)$/m.exec(output)
        if (match) {
          clearTimeout(timer)
          done(Number(match[1]))
        }
      }
      child.stdout!.on('data', onData)
      child.stderr!.on('data', (data: Buffer) => {
        output += String(data)
      })
      child.once('error', (error) => {
        clearTimeout(timer)
        fail(error)
      })
      void exited.then(({ code, signal }) => {
        clearTimeout(timer)
        fail(new Error(`server exited (${code ?? signal}) before listening:\n${output}`))
      })
    })
  } catch (error) {
    await server.stop('SIGKILL')
    throw error
  }
  server.url = `http://127.0.0.1:${server.port}`
  return server
}

/** Kills every server started by this module that is still running (SIGKILL: tests want no waiting). */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...live].map((s) => s.stop('SIGKILL')))
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface HttpAnswer {
  status: number
  headers: http.IncomingHttpHeaders
  text: string
  /** Parsed JSON body, or undefined. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- whatever JSON the server sent; the tests assert its shape
  body: any
  /** Network failure (status 0), as a browser's XHR reports it. */
  error?: Error
}

export interface RequestOptions {
  headers?: Record<string, string>
  body?: Buffer
  /** Write the body in this many pieces with a pause between them (keeps the request in flight). */
  slowBody?: { pieces: number; delayMs: number }
  signal?: AbortSignal
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))

/** One browser: a cookie jar (the AdminJS session cookie) and a base URL that can be changed. */
export class HttpClient {
  cookie: string | null = null
  constructor(public base: string) {}

  static async login(base: string, email: string, password = 'password'): Promise<HttpClient> {
    const client = new HttpClient(base)
    await client.login(email, password)
    return client
  }

  async login(email: string, password = 'password'): Promise<void> {
    this.cookie = null
    const res = await this.request('POST', '/admin/login', {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(new URLSearchParams({ email, password }).toString()),
    })
    if (res.status !== 302 || !String(res.headers.location).startsWith('/admin') || !this.cookie) {
      throw new Error(`login as ${email} failed: ${res.status} ${res.headers.location} ${res.text.slice(0, 200)}`)
    }
  }

  request(method: string, path: string, options: RequestOptions = {}): Promise<HttpAnswer> {
    const url = new URL(path, this.base)
    const headers: Record<string, string> = { ...options.headers }
    if (this.cookie) headers.Cookie = this.cookie
    if (options.body) headers['Content-Length'] = String(options.body.length)
    return new Promise<HttpAnswer>((done) => {
      let settled = false
      const finish = (answer: HttpAnswer) => {
        if (settled) return
        settled = true
        done(answer)
      }
      const req = http.request(url, { method, headers, agent: false, signal: options.signal }, (res) => {
        const setCookie = res.headers['set-cookie']
        if (setCookie?.length) {
          const adminjs = setCookie.map((c) => c.split(';')[0]).find((c) => c.startsWith('adminjs='))
          if (adminjs) this.cookie = adminjs
        }
        const parts: Buffer[] = []
        res.on('data', (d: Buffer) => parts.push(d))
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8')
          let body: unknown
          if (String(res.headers['content-type']).includes('json')) {
            try {
              body = JSON.parse(text)
            } catch { /* not JSON after all */ }
          }
          finish({ status: res.statusCode ?? 0, headers: res.headers, text, body })
        })
        res.on('error', (error) => finish({ status: 0, headers: {}, text: '', body: undefined, error }))
      })
      req.on('error', (error) => finish({ status: 0, headers: {}, text: '', body: undefined, error }))
      const body = options.body
      if (!body) {
        req.end()
      } else if (!options.slowBody) {
        req.end(body)
      } else {
        void (async () => {
          const { pieces, delayMs } = options.slowBody!
          const size = Math.ceil(body.length / pieces)
          for (let start = 0; start < body.length; start += size) {
            if (req.destroyed || settled) return
            req.write(body.subarray(start, start + size))
            await sleep(delayMs)
          }
          if (!req.destroyed) req.end()
        })()
      }
    })
  }
}

// ---------------------------------------------------------------------------------------------
// The Resumable.js protocol

/** The multipart body of one chunk as Resumable.js 1.1.0 builds it (FormData: parameters, then `file`). */
export function chunkRequest(file: FileSpec, n: number, body = chunkBytes(file, n)): { path: string; headers: Record<string, string>; body: Buffer } {
  const params = chunkParams(file, n)
  const boundary = `----WebKitFormBoundary${Math.random().toString(36).slice(2, 18)}`
  const parts: Buffer[] = []
  for (const [name, value] of Object.entries(params)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`))
  }
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="blob"\r\nContent-Type: application/octet-stream\r\n\r\n`))
  parts.push(body)
  parts.push(Buffer.from(`\r\n--${boundary}--\r\n`))
  return {
    path: `${ENDPOINT}?${new URLSearchParams(params)}`,
    headers: { ...XHR, 'Content-Type': `multipart/form-data; boundary=${boundary}` },
    body: Buffer.concat(parts),
  }
}

/** The same chunk as Resumable.js's `method: 'octet'` (what the edit components send): raw body, parameters in the URL. */
export function octetChunkRequest(file: FileSpec, n: number, body = chunkBytes(file, n)): { path: string; headers: Record<string, string>; body: Buffer } {
  return {
    path: `${ENDPOINT}?${new URLSearchParams(chunkParams(file, n))}`,
    headers: { ...XHR, 'Content-Type': 'application/octet-stream' },
    body,
  }
}

export function testPath(file: FileSpec, n: number): string {
  return `${ENDPOINT}?${new URLSearchParams(chunkParams(file, n))}`
}

export function postChunk(client: HttpClient, file: FileSpec, n: number, options: Omit<RequestOptions, 'headers' | 'body'> & { body?: Buffer } = {}): Promise<HttpAnswer> {
  const { path, headers, body } = chunkRequest(file, n, options.body)
  return client.request('POST', path, { ...options, headers, body })
}

export function testChunk(client: HttpClient, file: FileSpec, n: number): Promise<HttpAnswer> {
  return client.request('GET', testPath(file, n), { headers: XHR })
}

export interface UploadEvent {
  chunk: number
  kind: 'test' | 'post'
  answer: HttpAnswer
  run: UploadRun
}

export interface UploadOptions {
  /** Chunks in flight (Resumable.js `simultaneousUploads`). Default 3. */
  simultaneous?: number
  testChunks?: boolean
  /** Resumable.js `maxChunkRetries` (the component uses 20). Default 20. */
  maxRetries?: number
  /** Resumable.js `chunkRetryInterval`. Default 100 ms. */
  retryIntervalMs?: number
  permanentErrors?: number[]
  /** Which chunks to handle, in order. Default: all. */
  chunks?: number[]
  /** The client (server) each request of a chunk goes to. Default: `client`. */
  route?: (chunk: number) => HttpClient
  slowBody?: { pieces: number; delayMs: number }
  onAnswer?: (event: UploadEvent) => void
}

export interface UploadRun {
  /** Statuses of the test GETs per chunk. */
  tested: Map<number, number[]>
  /** Statuses of the POSTs per chunk (0 = network error). */
  posted: Map<number, number[]>
  /** References carried by 'complete' answers (and by 'held' answers that say complete). */
  references: string[]
  postsInFlight: number
  failure: { chunk: number; status: number; body: unknown; text: string } | null
  /** Set once every handled chunk succeeded. */
  done: boolean
  abort(): void
}

function record(map: Map<number, number[]>, chunk: number, status: number): void {
  map.set(chunk, [...(map.get(chunk) ?? []), status])
}

/**
 * Uploads a file the way one Resumable.js 1.1.0 file object does: up to `simultaneous` chunks at a
 * time, in order; per chunk a test GET (200/201: held, skip; anything else: send), then the POST;
 * a POST answered with a status outside 200/201 and `permanentErrors` (503, 507, a network error) is
 * sent again after `retryIntervalMs` without a new test, up to `maxRetries` times; a permanent error
 * fails the file and aborts the other chunks. Calling it again is Resumable's `file.retry()`: every
 * chunk is tested afresh. Never rejects for HTTP reasons: see `run.failure`.
 */
export async function resumableUpload(client: HttpClient, file: FileSpec, options: UploadOptions = {}): Promise<UploadRun> {
  const controller = new AbortController()
  const run: UploadRun = {
    tested: new Map(),
    posted: new Map(),
    references: [],
    postsInFlight: 0,
    failure: null,
    done: false,
    abort: () => controller.abort(),
  }
  const permanent = options.permanentErrors ?? PERMANENT_ERRORS
  const maxRetries = options.maxRetries ?? 20
  const interval = options.retryIntervalMs ?? 100
  const queue = [...(options.chunks ?? Array.from({ length: countOf(file) }, (_, i) => i + 1))]
  const clientFor = options.route ?? (() => client)
  const ok = (status: number) => status === 200 || status === 201
  const stopped = () => controller.signal.aborted || run.failure !== null

  const fail = (chunk: number, answer: HttpAnswer) => {
    if (!run.failure) run.failure = { chunk, status: answer.status, body: answer.body, text: answer.text }
    controller.abort()
  }
  const handle = async (chunk: number) => {
    if (options.testChunks ?? true) {
      const answer = await clientFor(chunk).request('GET', testPath(file, chunk), { headers: XHR, signal: controller.signal })
      if (stopped()) return
      record(run.tested, chunk, answer.status)
      options.onAnswer?.({ chunk, kind: 'test', answer, run })
      if (ok(answer.status)) {
        if (answer.body?.reference) run.references.push(answer.body.reference)
        return
      }
    }
    for (let retries = 0; ; retries++) {
      if (stopped()) return
      const { path, headers, body } = chunkRequest(file, chunk)
      run.postsInFlight++
      const answer = await clientFor(chunk).request('POST', path, { headers, body, signal: controller.signal, slowBody: options.slowBody })
      run.postsInFlight--
      if (stopped()) return
      record(run.posted, chunk, answer.status)
      options.onAnswer?.({ chunk, kind: 'post', answer, run })
      if (ok(answer.status)) {
        if (answer.body?.status === 'complete') run.references.push(answer.body.reference)
        return
      }
      if (permanent.includes(answer.status) || retries >= maxRetries) return fail(chunk, answer)
      await sleep(interval)
    }
  }
  const worker = async () => {
    while (!stopped() && queue.length) await handle(queue.shift()!)
  }
  await Promise.all(Array.from({ length: options.simultaneous ?? 3 }, worker))
  run.done = !stopped() && queue.length === 0
  return run
}

/** The single reference of a finished run (every completing answer must carry the same one). */
export function referenceOf(run: UploadRun): string {
  const unique = [...new Set(run.references)]
  if (!run.done || unique.length !== 1) {
    throw new Error(`upload did not finish with one reference: done=${run.done} references=${unique.join(',')} failure=${JSON.stringify(run.failure)}`)
  }
  return unique[0]
}

/** Save: the AdminJS `new` action with `title` and `file=<reference>`, as the form posts it. */
export async function saveDocument(client: HttpClient, title: string, reference: string): Promise<HttpAnswer> {
  const boundary = `----save${Math.random().toString(36).slice(2)}`
  const body = Buffer.from(
    Object.entries({ title, file: reference })
      .map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
      .join('') + `--${boundary}--\r\n`,
  )
  return client.request('POST', '/admin/api/resources/Document/actions/new', {
    headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
    body,
  })
}

/** The saved record's params, or an Error describing why Save did not create one. */
export function savedRecord(answer: HttpAnswer): DocumentParams {
  const record = answer.body?.record
  if (answer.status !== 200 || !record?.id || (record.errors && Object.keys(record.errors).length)) {
    throw new Error(`save failed: ${answer.status} ${answer.text.slice(0, 500)}`)
  }
  return record.params
}

/**
 * Sends the request line, headers (announcing the full Content-Length) and only the first
 * `sendBytes` of the body over a raw socket, then destroys the socket: a browser tab closed mid-chunk.
 */
export async function abortedPost(url: string, cookie: string | null, request: { path: string; headers: Record<string, string>; body: Buffer }, sendBytes: number, waitMs = 150): Promise<void> {
  const { hostname, port } = new URL(url)
  const socket = net.connect(Number(port), hostname)
  await new Promise<void>((done, fail) => {
    socket.once('connect', done)
    socket.once('error', fail)
  })
  socket.on('error', () => undefined)
  const headers = { ...request.headers, Host: `${hostname}:${port}`, 'Content-Length': String(request.body.length), ...(cookie ? { Cookie: cookie } : {}) }
  socket.write(`POST ${request.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`)
  socket.write(request.body.subarray(0, sendBytes))
  await sleep(waitMs)
  socket.destroy()
}
