/**
 * Hostile input against the chunk route and the Save hooks, as one table.
 *
 * One example app in-process (SQLite, temp upload folder), two uploads held in the middle (the
 * admin's: chunks 1-3 of 5; the editor's: chunks 1-2 of 4). Every row sends one hostile request and
 * then checks, besides its own status and message, that
 * - nothing appeared or changed in UPLOAD_DIR outside `.staging`,
 * - for refused requests, nothing appeared or changed anywhere in UPLOAD_DIR (rows that are allowed
 *   to start an upload say so),
 * - both held uploads are byte-for-byte what they were (manifest, `received`, `data`),
 * - the server still answers the next good request (a test GET for a held chunk → 200).
 * Rows whose input is legal once sanitised expect a 200 with a sanitised stored name instead.
 * The last tests finish both held uploads and compare their bytes with the originals, so a
 * refused request that slipped bytes or a held mark into them cannot go unnoticed.
 */
import type { Server } from 'node:http'
import { readFile, readdir, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import request from 'supertest'
import { findFeature } from '../src/upload/registry.js'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import { htmlFile, signed } from './support/samples.js'
import { listTree, lockFiles, treeDiff, uploadFingerprint, type Tree } from './support/tree.js'
import {
  expectContinue, fromSupertest, loginCookie, multipartBody, rawRequest, sendAllThenRead, trickleRequest, type Part, type Reply,
} from './support/hostile-http.js'
import { guardHttpServer } from '../src/guard/http-server.js'
import {
  bytes, chunkBytes, chunkParams, ENDPOINT, sha256, testChunk, XHR, type FileSpec,
} from './support/resumable-client.js'

const CHUNK = 64 * 1024
const MAX = 10 * 1024 * 1024
const ALLOWED = 'video/*,application/pdf,application/octet-stream'
const NEW_URL = '/admin/api/resources/Document/actions/new'
const HEX40 = /^[a-f0-9]{40}$/

/** The admin's upload held in the middle: chunks 1-3 of 5 (the last chunk has 100 extra bytes). */
const adminFile: FileSpec = { identifier: '327780-admin-video_mp4', filename: 'admin-video.mp4', type: 'video/mp4', data: signed('video/mp4', 5 * CHUNK + 100, 7), chunkSize: CHUNK }
/** The editor's upload held in the middle: chunks 1-2 of 4. */
const editorFile: FileSpec = { identifier: '262154-editor_pdf', filename: 'editor.pdf', type: 'application/pdf', data: signed('application/pdf', 4 * CHUNK + 10, 9), chunkSize: CHUNK }
const expiredFile: FileSpec = { identifier: 'expired-upload', filename: 'old.pdf', type: 'application/pdf', data: signed('application/pdf', 2 * CHUNK, 11), chunkSize: CHUNK }
const cancelledFile: FileSpec = { identifier: 'cancelled-upload', filename: 'gone.pdf', type: 'application/pdf', data: signed('application/pdf', 3000, 12), chunkSize: CHUNK }
const adminDoneFile: FileSpec = { identifier: 'admin-done', filename: 'admin-done.pdf', type: 'application/pdf', data: signed('application/pdf', 5000, 13), chunkSize: CHUNK }
const editorDoneFile: FileSpec = { identifier: 'editor-done', filename: 'editor-done.pdf', type: 'application/pdf', data: signed('application/pdf', 4000, 14), chunkSize: CHUNK }

/** Upload ids (= references), as the server reports or stores them; never recomputed here. */
let adminRef = ''
let editorRef = ''
let expiredRef = ''
let cancelledRef = ''
let adminDoneRef = ''
let editorDoneRef = ''
/** 40 hex characters that name no upload at all. */
const NOBODY = 'deadbeef'.repeat(5)

let t: TestApp
let server: Server
let staging: string
const agents = {} as Record<'admin' | 'editor' | 'viewer' | 'anon', Agent>
let adminCookie = ''
let loggedOutCookie = ''

// ---------------------------------------------------------------------------------------------
// Request builders

type Params = Record<string, string | string[] | null>

function apply(base: Record<string, string | string[]>, over: Params = {}): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k]
    else out[k] = v
  }
  return out
}

function queryString(params: Record<string, string | string[]>): string {
  const search = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) for (const one of ([] as string[]).concat(v)) search.append(k, one)
  return search.toString()
}

interface ChunkOptions {
  /** Overrides in both the URL and the body (null removes, an array repeats). */
  params?: Params
  url?: Params
  body?: Params
  /** The bytes of the part `file` (default: the real chunk). */
  bytes?: Buffer
  /** Replaces the single `file` part. */
  parts?: Array<{ name: string; data: Buffer }>
  /** Replaces the X-Requested-With header. */
  headers?: Record<string, string>
  /** Plain request with this Cookie header instead of an agent. */
  cookie?: string
  /** Send no body fields: everything in the URL (what `method: 'octet'` does for parameters). */
  urlOnly?: boolean
}

/** A file nobody has started: its first chunk would create an upload. */
function freshFile(name: string): FileSpec {
  return { identifier: `fresh-${name}-${process.pid}`, filename: `${name}.pdf`, type: 'application/pdf', data: signed('application/pdf', 5 * CHUNK + 100, 7), chunkSize: CHUNK }
}

/** Junk of `n` bytes: never the real chunk, so a slip into a held upload changes its final hash. */
const junk = (n: number) => bytes(n, 666)

function agentFor(who: keyof typeof agents, cookie?: string) {
  return cookie === undefined ? agents[who] : request(t.app)
}

async function post(who: keyof typeof agents, file: FileSpec, n: number, o: ChunkOptions = {}): Promise<Reply> {
  const base = chunkParams(file, n)
  const url = apply(apply(base, o.params), o.url)
  const body = apply(apply(base, o.params), o.body)
  let req = agentFor(who, o.cookie).post(`${ENDPOINT}?${queryString(url)}`).set(o.headers ?? XHR)
  if (o.cookie !== undefined) req = req.set('Cookie', o.cookie)
  if (!o.urlOnly) for (const [k, v] of Object.entries(body)) for (const one of ([] as string[]).concat(v)) req = req.field(k, one)
  const parts = o.parts ?? [{ name: 'file', data: o.bytes ?? chunkBytes(file, n) }]
  for (const part of parts) req = req.attach(part.name, part.data, { filename: 'blob', contentType: 'application/octet-stream' })
  return fromSupertest(await req)
}

async function getTest(who: keyof typeof agents, file: FileSpec, n: number, o: ChunkOptions = {}): Promise<Reply> {
  const url = apply(apply(chunkParams(file, n), o.params), o.url)
  let req = agentFor(who, o.cookie).get(`${ENDPOINT}?${queryString(url)}`).set(o.headers ?? XHR)
  if (o.cookie !== undefined) req = req.set('Cookie', o.cookie)
  return fromSupertest(await req)
}

async function del(who: keyof typeof agents, query: Record<string, string>, o: Pick<ChunkOptions, 'headers' | 'cookie'> = {}): Promise<Reply> {
  let req = agentFor(who, o.cookie).delete(`${ENDPOINT}?${queryString(query)}`).set(o.headers ?? XHR)
  if (o.cookie !== undefined) req = req.set('Cookie', o.cookie)
  return fromSupertest(await req)
}

/** A non-multipart body on the chunk URL (parameters in the URL, as Resumable.js also sends them). */
async function postTyped(type: string, payload: string | Buffer, file = adminFile, n = 4): Promise<Reply> {
  const res = await agents.admin.post(`${ENDPOINT}?${queryString(chunkParams(file, n))}`).set(XHR).set('Content-Type', type).send(payload)
  return fromSupertest(res)
}

/** A hand-made request over a raw socket, logged in as the admin, with X-Requested-With. */
function raw(method: string, path: string, headers: Record<string, string | number>, body?: Buffer): Promise<Reply> {
  return rawRequest(server, { method, path, headers: { Cookie: adminCookie, 'X-Requested-With': 'XMLHttpRequest', ...headers } }, body)
}

/**
 * A chunk POST built by hand. `length` may differ from the bytes sent (a lie, or a body the client
 * stops sending once the answer arrives); `chunked` sends it with Transfer-Encoding and no length.
 */
function rawChunk(file: FileSpec, n: number, build: (fields: Part[], boundary: string) => { type?: string; body: Buffer; length?: number; chunked?: boolean }): Promise<Reply> {
  const params = chunkParams(file, n)
  const fields: Part[] = Object.entries(params).map(([name, value]) => ({ name, value }))
  const built = build(fields, 'hostileBoundary1234')
  const headers: Record<string, string | number> = built.chunked
    ? { 'Transfer-Encoding': 'chunked' }
    : { 'Content-Length': built.length ?? built.body.length }
  if (built.type !== undefined) headers['Content-Type'] = built.type
  const body = built.chunked
    ? Buffer.concat([Buffer.from(`${built.body.length.toString(16)}\r\n`), built.body, Buffer.from('\r\n0\r\n\r\n')])
    : built.body
  return raw('POST', `${ENDPOINT}?${queryString(params)}`, headers, body)
}

async function save(who: keyof typeof agents, fields: Array<[string, string]>): Promise<Reply> {
  let req = agents[who].post(NEW_URL)
  for (const [k, v] of fields) req = req.field(k, v)
  return fromSupertest(await req)
}

/** A one-chunk file with an odd value in one parameter: used by rows refused or sanitised by name. */
let oddCounter = 0
function oddFile(filename = 'plain.pdf'): FileSpec {
  oddCounter++
  return { identifier: `odd-${oddCounter}`, filename, type: 'application/octet-stream', data: bytes(1000, 100 + oddCounter), chunkSize: CHUNK }
}

const long = (n: number, ch = 'a') => ch.repeat(n)

// ---------------------------------------------------------------------------------------------
// The table

interface Case {
  group: string
  name: string
  /** Expected HTTP status (200 for sanitised rows and Save rows). */
  status: number
  send: () => Promise<Reply>
  /** 'refused' (JSON error), 'save' (AdminJS validation error on `file`), 'sanitised' (200, safe name). */
  kind?: 'refused' | 'save' | 'sanitised'
  /** Refused rows may not change anything in UPLOAD_DIR, unless they say 'staging' (a new upload of their own). */
  creates?: 'nothing' | 'staging'
  /** Sanitised rows: the file name the manifest must hold. */
  storedName?: string
  check?: (reply: Reply) => Promise<void> | void
}

const A = adminFile

/** Sanitised rows: the upload completes (one chunk), its folder is server-named, then it is cancelled. */
function sanitised(group: string, name: string, storedName: string, send: (file: FileSpec) => Promise<Reply>, filename?: string): Case {
  const file = oddFile(filename)
  return { group, name, status: 200, kind: 'sanitised', storedName, send: () => send(file) }
}

const namePost = (params: Params) => (file: FileSpec) => post('admin', file, 1, { params })
const nameRef = (field: string, value: string) => () => post('admin', oddFile(), 1, { params: { [field]: value } })
const rawQueryPost = (file: FileSpec, override: Record<string, string>) => {
  // Parameters only in the URL, with `override` spliced in exactly as given (already encoded).
  const params = chunkParams(file, 1)
  for (const key of Object.keys(override)) delete (params as Record<string, string>)[key]
  const rawQuery = [queryString(params), ...Object.entries(override).map(([k, v]) => `${k}=${v}`)].join('&')
  return agents.admin.post(`${ENDPOINT}?${rawQuery}`).set(XHR)
    .attach('file', chunkBytes(file, 1), { filename: 'blob', contentType: 'application/octet-stream' })
    .then(fromSupertest)
}

const CASES: Case[] = [
  // ---- names: refused outright (control characters, lengths, emptiness) ----
  { group: 'names', name: 'filename with NUL', status: 400, send: nameRef('resumableFilename', 'evil\u0000.pdf') },
  { group: 'names', name: 'filename with CR LF', status: 400, send: nameRef('resumableFilename', 'a\r\nContent-Type: text/html.pdf') },
  { group: 'names', name: 'filename with ESC', status: 400, send: nameRef('resumableFilename', '\u001b[31mred.pdf') },
  { group: 'names', name: 'filename with DEL', status: 400, send: nameRef('resumableFilename', 'a\u007f.pdf') },
  { group: 'names', name: 'filename of 10,000 characters (URL only)', status: 400, send: () => post('admin', oddFile(), 1, { params: { resumableFilename: long(10_000) }, urlOnly: true }) },
  { group: 'names', name: 'filename of 10,000 characters (URL and body)', status: 400, send: nameRef('resumableFilename', long(10_000)) },
  { group: 'names', name: 'empty filename', status: 400, send: nameRef('resumableFilename', '') },
  { group: 'names', name: 'percent-encoded NUL in the filename (%00)', status: 400, send: () => rawQueryPost(oddFile(), { resumableFilename: 'x%00.pdf' }) },
  { group: 'names', name: 'identifier with NUL', status: 400, send: nameRef('resumableIdentifier', 'id\u0000../../x') },
  { group: 'names', name: 'identifier with newline', status: 400, send: nameRef('resumableIdentifier', 'id\n') },
  { group: 'names', name: 'identifier of 10,000 characters', status: 400, send: () => post('admin', oddFile(), 1, { params: { resumableIdentifier: long(10_000, '.') }, urlOnly: true }) },
  { group: 'names', name: 'identifier of 257 characters', status: 400, send: nameRef('resumableIdentifier', long(257, '/')) },
  { group: 'names', name: 'empty identifier', status: 400, send: nameRef('resumableIdentifier', '') },
  { group: 'names', name: 'relativePath with NUL', status: 400, send: nameRef('resumableRelativePath', '../../etc/passwd\u0000') },
  { group: 'names', name: 'relativePath with CR LF', status: 400, send: nameRef('resumableRelativePath', 'dir\r\n/x.pdf') },
  { group: 'names', name: 'relativePath of 10,000 characters (body only)', status: 400, send: () => post('admin', oddFile(), 1, { url: { resumableRelativePath: null }, body: { resumableRelativePath: long(10_000, '../').slice(0, 10_000) } }) },
  { group: 'names', name: 'relativePath of 10,000 characters (URL only)', status: 400, send: () => post('admin', oddFile(), 1, { params: { resumableRelativePath: long(10_000, 'x') }, urlOnly: true }) },

  // ---- names: legal once sanitised → 200, a sanitised stored name, nothing outside staging ----
  sanitised('names (sanitised)', '../ traversal in filename', 'passwd', namePost({ resumableFilename: '../../../../etc/passwd' })),
  sanitised('names (sanitised)', '..\\ traversal in filename', 'win.ini', namePost({ resumableFilename: '..\\..\\..\\Windows\\win.ini' })),
  sanitised('names (sanitised)', 'absolute /etc/passwd', 'passwd', namePost({ resumableFilename: '/etc/passwd' })),
  sanitised('names (sanitised)', 'absolute C:\\Windows path', 'hosts', namePost({ resumableFilename: 'C:\\Windows\\System32\\drivers\\etc\\hosts' })),
  sanitised('names (sanitised)', 'drive-relative C:evil.pdf', 'Cevil.pdf', namePost({ resumableFilename: 'C:evil.pdf' })),
  sanitised('names (sanitised)', 'percent-encoded %2e%2e%2f (decoded once by the URL parser)', 'passwd', (f) => rawQueryPost(f, { resumableFilename: '%2e%2e%2f%2e%2e%2fetc%2fpasswd' })),
  sanitised('names (sanitised)', 'double-encoded %252e%252e%252f stays literal', '%2e%2e%2fetc%2fpasswd', (f) => rawQueryPost(f, { resumableFilename: '%252e%252e%252fetc%252fpasswd' })),
  sanitised('names (sanitised)', 'overlong UTF-8 dots %c0%ae%c0%ae%2f', 'passwd', (f) => rawQueryPost(f, { resumableFilename: '%c0%ae%c0%ae%2fpasswd' })),
  sanitised('names (sanitised)', 'U+2024 one-dot leaders and U+2215 division slash', 'passwd', namePost({ resumableFilename: '\u2024\u2024\u2215\u2024\u2024\u2215etc\u2215passwd' })),
  sanitised('names (sanitised)', 'U+FF0E fullwidth dots and U+FF0F fullwidth slash', 'secret.pdf', namePost({ resumableFilename: '\uFF0E\uFF0E\uFF0F\uFF0E\uFF0E\uFF0Fsecret.pdf' })),
  sanitised('names (sanitised)', 'leading U+2024 look-alike dots', 'hidden.pdf', namePost({ resumableFilename: '\u2024\u2024hidden.pdf' })),
  sanitised('names (sanitised)', 'just ".."', 'file', namePost({ resumableFilename: '..' })),
  sanitised('names (sanitised)', 'dot file .htaccess', 'htaccess', namePost({ resumableFilename: '.htaccess' })),
  sanitised('names (sanitised)', 'Windows reserved CON', '_CON', namePost({ resumableFilename: 'CON' })),
  sanitised('names (sanitised)', 'Windows reserved NUL.txt', '_NUL.txt', namePost({ resumableFilename: 'NUL.txt' })),
  sanitised('names (sanitised)', 'Windows reserved com1.pdf', '_com1.pdf', namePost({ resumableFilename: 'com1.pdf' })),
  sanitised('names (sanitised)', 'trailing dots and spaces', 'report.pdf', namePost({ resumableFilename: 'report.pdf . . ' })),
  sanitised('names (sanitised)', 'right-to-left override', 'evilfdp.exe', namePost({ resumableFilename: 'evil\u202Efdp.exe' })),
  sanitised('names (sanitised)', 'name of 1,000 characters keeps its extension within 200 bytes', `${long(196)}.pdf`, namePost({ resumableFilename: `${long(996)}.pdf` })),
  sanitised('names (sanitised)', 'identifier ../../../../tmp/pwned', 'plain.pdf', namePost({ resumableIdentifier: '../../../../tmp/pwned' })),
  sanitised('names (sanitised)', 'identifier C:\\Windows\\System32', 'plain.pdf', namePost({ resumableIdentifier: 'C:\\Windows\\System32' })),
  sanitised('names (sanitised)', 'identifier with U+FF0F and U+2215', 'plain.pdf', namePost({ resumableIdentifier: '\uFF0E\uFF0E\uFF0F\u2215x' })),
  sanitised('names (sanitised)', 'relativePath ../../../etc/cron.d/evil', 'plain.pdf', namePost({ resumableRelativePath: '../../../etc/cron.d/evil' })),
  sanitised('names (sanitised)', 'relativePath C:\\Windows\\evil.pdf', 'plain.pdf', namePost({ resumableRelativePath: 'C:\\Windows\\evil.pdf' })),
  sanitised('names (sanitised)', 'traversal in the multipart part filename (ignored)', 'plain.pdf', (f) => fromSupertestPromise(
    agents.admin.post(`${ENDPOINT}?${queryString(chunkParams(f, 1))}`).set(XHR)
      .attach('file', chunkBytes(f, 1), { filename: '../../../etc/passwd', contentType: 'application/octet-stream' }),
  )),

  // ---- chunk numbers ----
  ...([
    ['non-numeric', 'abc'], ['negative', '-1'], ['zero', '0'], ['fractional', '1.5'], ['exponent', '4e0'],
    ['hex', '0x4'], ['plus sign', '+4'], ['leading space', ' 4'], ['huge (20 digits)', '99999999999999999999'],
    ['unsafe integer (16 digits)', '9007199254740993'], ['empty', ''], ['beyond the count (6 of 5)', '6'],
    ['far beyond the count', '1000000'],
  ] as const).map(([what, value]): Case => ({
    group: 'chunk number', name: `${what}: ${JSON.stringify(value)}`, status: 400,
    send: () => post('admin', A, 4, { params: { resumableChunkNumber: value }, bytes: junk(CHUNK) }),
  })),
  { group: 'chunk number', name: 'repeated in the URL (4 and 5)', status: 400, send: () => post('admin', A, 4, { url: { resumableChunkNumber: ['4', '5'] }, body: { resumableChunkNumber: null }, bytes: junk(CHUNK) }) },
  { group: 'chunk number', name: 'repeated in the body (4 and 4)', status: 400, send: () => post('admin', A, 4, { url: { resumableChunkNumber: null }, body: { resumableChunkNumber: ['4', '4'] }, bytes: junk(CHUNK) }) },
  { group: 'chunk number', name: 'missing', status: 400, send: () => post('admin', A, 4, { params: { resumableChunkNumber: null }, bytes: junk(CHUNK) }) },
  { group: 'chunk number', name: 'test GET beyond the count', status: 400, send: () => getTest('admin', A, 4, { params: { resumableChunkNumber: '6' } }) },

  // ---- declared sizes against the arithmetic ----
  { group: 'sizes', name: 'current chunk size 1000 for a full chunk', status: 400, send: () => post('admin', A, 4, { params: { resumableCurrentChunkSize: '1000' }, bytes: junk(1000) }) },
  { group: 'sizes', name: 'last chunk declared as a plain chunk (its 100 extra bytes missing)', status: 400, send: () => post('admin', A, 5, { params: { resumableCurrentChunkSize: String(CHUNK) }, bytes: junk(CHUNK) }) },
  { group: 'sizes', name: 'current chunk size 0', status: 400, send: () => post('admin', A, 4, { params: { resumableCurrentChunkSize: '0' }, bytes: Buffer.alloc(0) }) },
  { group: 'sizes', name: 'current chunk size negative', status: 400, send: () => post('admin', A, 4, { params: { resumableCurrentChunkSize: `-${CHUNK}` }, bytes: junk(CHUNK) }) },
  { group: 'sizes', name: 'chunk size other than configured (1024)', status: 400, send: () => post('admin', A, 4, { params: { resumableChunkSize: '1024' }, bytes: junk(CHUNK) }) },
  { group: 'sizes', name: 'chunk size 0', status: 400, send: () => post('admin', A, 4, { params: { resumableChunkSize: '0' }, bytes: junk(CHUNK) }) },
  { group: 'sizes', name: 'total size 0', status: 400, send: () => post('admin', A, 4, { params: { resumableTotalSize: '0' }, bytes: junk(CHUNK) }) },
  { group: 'sizes', name: 'total size negative', status: 400, send: () => post('admin', A, 4, { params: { resumableTotalSize: '-327780' }, bytes: junk(CHUNK) }) },
  { group: 'sizes', name: 'total size fractional', status: 400, send: () => post('admin', A, 4, { params: { resumableTotalSize: '327780.5' }, bytes: junk(CHUNK) }) },
  { group: 'sizes', name: 'total size with exponent', status: 400, send: () => post('admin', A, 4, { params: { resumableTotalSize: '3.2778e5' }, bytes: junk(CHUNK) }) },
  { group: 'sizes', name: 'total size in hex', status: 400, send: () => post('admin', A, 4, { params: { resumableTotalSize: '0x50064' }, bytes: junk(CHUNK) }) },
  { group: 'sizes', name: 'total chunks non-numeric', status: 400, send: () => post('admin', A, 4, { params: { resumableTotalChunks: 'five' }, bytes: junk(CHUNK) }) },
  { group: 'sizes', name: 'total size that makes chunk 4 the last one, declared as a plain chunk', status: 400, send: () => post('admin', A, 4, { params: { resumableTotalSize: String(4 * CHUNK + 5) }, bytes: junk(CHUNK) }) },

  // ---- bodies that disagree with their declared size ----
  { group: 'body size', name: 'body one byte shorter than declared', status: 400, send: () => post('admin', A, 4, { bytes: junk(CHUNK - 1) }) },
  { group: 'body size', name: 'body one byte longer than declared', status: 400, send: () => post('admin', A, 4, { bytes: junk(CHUNK + 1) }) },
  { group: 'body size', name: 'empty body for a full chunk', status: 400, send: () => post('admin', A, 4, { bytes: Buffer.alloc(0) }) },
  { group: 'body size', name: 'last chunk one byte longer', status: 400, send: () => post('admin', A, 5, { bytes: junk(CHUNK + 101) }) },
  { group: 'body size', name: 'last chunk 100 bytes short', status: 400, send: () => post('admin', A, 5, { bytes: junk(CHUNK) }) },
  {
    // The server answers as soon as it reads the head; the client stops sending when it gets the answer.
    group: 'body size', name: 'body of three chunks (over the request limit)', status: 413,
    send: () => rawChunk(A, 4, (f, b) => {
      const body = multipartBody([...f, { name: 'file', filename: 'blob', value: junk(3 * CHUNK) }], b)
      return { type: `multipart/form-data; boundary=${b}`, body: body.subarray(0, 16 * 1024), length: body.length }
    }),
  },
  { group: 'body size', name: 'Content-Length of 1 GB (body not sent)', status: 413, send: () => rawChunk(A, 4, (fields, b) => ({ type: `multipart/form-data; boundary=${b}`, body: multipartBody(fields, b, { close: false }), length: 1_000_000_000 })) },
  { group: 'body size', name: 'octet-stream body shorter than declared', status: 400, send: () => postTyped('application/octet-stream', junk(CHUNK - 10)) },
  { group: 'body size', name: 'octet-stream body longer than declared', status: 400, send: () => postTyped('application/octet-stream', junk(CHUNK + 10)) },

  // ---- one identifier, another file ----
  { group: 'conflict', name: 'same identifier, other total size', status: 409, send: () => post('admin', A, 4, { params: { resumableTotalSize: String(6 * CHUNK), resumableTotalChunks: '6' }, bytes: junk(CHUNK) }) },
  { group: 'conflict', name: 'same identifier, other file name', status: 409, send: () => post('admin', A, 4, { params: { resumableFilename: 'other.mp4' }, bytes: junk(CHUNK) }) },
  { group: 'conflict', name: 'same identifier, name that sanitises to the same', status: 409, send: () => post('admin', A, 4, { params: { resumableFilename: '../admin-video.mp4' }, bytes: junk(CHUNK) }) },
  { group: 'conflict', name: 'same identifier, name differing in case', status: 409, send: () => post('admin', A, 4, { params: { resumableFilename: 'ADMIN-VIDEO.mp4' }, bytes: junk(CHUNK) }) },
  { group: 'conflict', name: 'test GET, same identifier, other total size', status: 409, send: () => getTest('admin', A, 1, { params: { resumableTotalSize: String(7 * CHUNK) } }) },
  { group: 'conflict', name: 'test GET, same identifier, other file name', status: 409, send: () => getTest('admin', A, 1, { params: { resumableFilename: 'renamed.mp4' } }) },
  { group: 'conflict', name: "editor's own upload, other total size", status: 409, send: () => post('editor', editorFile, 3, { params: { resumableTotalSize: String(8 * CHUNK) }, bytes: junk(CHUNK) }) },

  // ---- too large ----
  { group: 'too large', name: 'total one byte over the maximum', status: 413, send: () => post('admin', { ...oddFile(), data: bytes(CHUNK, 3) }, 1, { params: { resumableTotalSize: String(MAX + 1) } }) },
  { group: 'too large', name: 'total of 2^53-1 bytes', status: 413, send: () => post('admin', oddFile(), 1, { params: { resumableTotalSize: String(Number.MAX_SAFE_INTEGER) } }) },
  { group: 'too large', name: 'total of 1 TiB on the held identifier', status: 413, send: () => post('admin', A, 4, { params: { resumableTotalSize: String(1024 ** 4) }, bytes: junk(CHUNK) }) },
  { group: 'too large', name: 'test GET with an oversize total', status: 413, send: () => getTest('admin', oddFile(), 1, { params: { resumableTotalSize: String(MAX * 2) } }) },

  // ---- forbidden types ----
  { group: 'type', name: 'text/html', status: 415, send: () => post('admin', oddFile('page.html'), 1, { params: { resumableType: 'text/html' } }) },
  { group: 'type', name: 'application/x-msdownload .exe', status: 415, send: () => post('admin', oddFile('setup.exe'), 1, { params: { resumableType: 'application/x-msdownload' } }) },
  { group: 'type', name: 'image/svg+xml', status: 415, send: () => post('admin', oddFile('x.svg'), 1, { params: { resumableType: 'image/svg+xml' } }) },
  { group: 'type', name: 'empty type guessed from .png', status: 415, send: () => post('admin', oddFile('x.png'), 1, { params: { resumableType: '' } }) },
  { group: 'type', name: 'malformed type "video" guessed from .txt', status: 415, send: () => post('admin', oddFile('x.txt'), 1, { params: { resumableType: 'video' } }) },
  { group: 'type', name: 'type with a path "video/../../etc" guessed from .svg', status: 415, send: () => post('admin', oddFile('x.svg'), 1, { params: { resumableType: 'video/../../etc' } }) },
  { group: 'type', name: 'prefix trick videox/mp4 against video/*', status: 415, send: () => post('admin', oddFile('x.mp4'), 1, { params: { resumableType: 'videox/mp4' } }) },
  { group: 'type', name: 'application/pdfx against application/pdf', status: 415, send: () => post('admin', oddFile('x.pdf'), 1, { params: { resumableType: 'application/pdfx' } }) },
  { group: 'type', name: 'type changed to text/html mid-upload', status: 415, send: () => post('admin', A, 4, { params: { resumableType: 'text/html', resumableFilename: A.filename }, bytes: junk(CHUNK) }) },
  { group: 'type', name: 'test GET with image/png', status: 415, send: () => getTest('admin', oddFile('x.png'), 1, { params: { resumableType: 'image/png' } }) },
  { group: 'content', name: 'evil.html declared as application/pdf', status: 415, send: () => post('admin', { ...oddFile('evil.html'), type: 'application/pdf', data: htmlFile(1000) }, 1) },
  { group: 'content', name: 'a PDF declared as video/mp4', status: 415, send: () => post('admin', { ...oddFile('clip.mp4'), type: 'video/mp4', data: signed('application/pdf', 1000) }, 1) },
  { group: 'content', name: 'HTML bytes declared as application/octet-stream under a .pdf name (nothing contradicts the claim)', status: 200, kind: 'sanitised', storedName: 'page.pdf', send: () => post('admin', { ...oddFile('page.pdf'), data: htmlFile(1000) }, 1) },
  { group: 'content', name: 'random bytes declared as video/mp4', status: 415, send: () => post('admin', { ...oddFile('clip.mp4'), type: 'video/mp4' }, 1) },

  // ---- the part `file` ----
  { group: 'file part', name: 'missing (fields only)', status: 400, send: () => post('admin', A, 4, { parts: [] }) },
  { group: 'file part', name: 'named "chunk" instead of "file"', status: 400, send: () => post('admin', A, 4, { parts: [{ name: 'chunk', data: junk(CHUNK) }] }) },
  { group: 'file part', name: 'empty', status: 400, send: () => post('admin', A, 4, { parts: [{ name: 'file', data: Buffer.alloc(0) }] }) },
  { group: 'file part', name: 'sent twice', status: 400, send: () => post('admin', A, 4, { parts: [{ name: 'file', data: junk(CHUNK) }, { name: 'file', data: junk(CHUNK) }] }) },
  { group: 'file part', name: 'unexpected file part before it', status: 400, send: () => post('admin', A, 4, { parts: [{ name: 'evil', data: junk(100) }, { name: 'file', data: junk(CHUNK) }] }) },
  { group: 'file part', name: 'unexpected file part after it', status: 400, send: () => post('admin', A, 4, { parts: [{ name: 'file', data: junk(CHUNK) }, { name: 'evil', data: junk(100) }] }) },
  {
    // The whole chunk and the start of a second part arrive first; the rest only once the server is
    // writing chunk 4 (its lock exists) and has had every chance to finish and mark it.
    group: 'file part', name: 'second file part arriving after the chunk was read', status: 400,
    send: () => {
      const b = 'hostileBoundarySecond'
      const params = chunkParams(A, 4)
      const fields: Part[] = Object.entries(params).map(([name, value]) => ({ name, value }))
      const body = multipartBody([...fields, { name: 'file', filename: 'blob', value: junk(CHUNK) }, { name: 'file', filename: 'again', value: junk(10) }], b)
      const cut = body.indexOf(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="again"`) + b.length + 4
      return rawRequest(server, {
        method: 'POST', path: `${ENDPOINT}?${queryString(params)}`,
        headers: { Cookie: adminCookie, 'X-Requested-With': 'XMLHttpRequest', 'Content-Type': `multipart/form-data; boundary=${b}`, 'Content-Length': body.length },
      }, body.subarray(0, cut), { between: () => lockHeldThenSettled(join(staging, adminRef), 'lock-4'), body: body.subarray(cut) })
    },
  },

  // ---- not multipart, or broken multipart ----
  { group: 'body format', name: 'JSON body', status: 400, send: () => postTyped('application/json', JSON.stringify({ file: junk(CHUNK).toString('base64') })) },
  { group: 'body format', name: 'urlencoded body', status: 400, send: () => postTyped('application/x-www-form-urlencoded', `file=${junk(100).toString('hex')}`) },
  { group: 'body format', name: 'text/plain body', status: 400, send: () => postTyped('text/plain', junk(CHUNK).toString('latin1')) },
  { group: 'body format', name: 'no Content-Type', status: 400, send: () => rawChunk(A, 4, () => ({ body: junk(CHUNK) })) },
  { group: 'body format', name: 'multipart without boundary', status: 400, send: () => rawChunk(A, 4, (f, b) => ({ type: 'multipart/form-data', body: multipartBody([...f, { name: 'file', filename: 'blob', value: junk(CHUNK) }], b) })) },
  { group: 'body format', name: 'multipart with another boundary than declared', status: 400, send: () => rawChunk(A, 4, (f, b) => ({ type: `multipart/form-data; boundary=${b}X`, body: multipartBody([...f, { name: 'file', filename: 'blob', value: junk(CHUNK) }], b) })) },
  { group: 'body format', name: 'truncated: whole chunk, no closing boundary', status: 400, send: () => rawChunk(A, 4, (f, b) => ({ type: `multipart/form-data; boundary=${b}`, body: multipartBody([...f, { name: 'file', filename: 'blob', value: junk(CHUNK) }], b, { close: false }).subarray(0, -2) })) },
  { group: 'body format', name: 'truncated in the middle of the chunk', status: 400, send: () => rawChunk(A, 4, (f, b) => ({ type: `multipart/form-data; boundary=${b}`, body: multipartBody([...f, { name: 'file', filename: 'blob', value: junk(CHUNK) }], b).subarray(0, 20_000) })) },
  { group: 'body format', name: 'truncated in the part headers', status: 400, send: () => rawChunk(A, 4, (f, b) => { const body = multipartBody([...f, { name: 'file', filename: 'blob', value: junk(CHUNK) }], b); return { type: `multipart/form-data; boundary=${b}`, body: body.subarray(0, body.indexOf('filename="blob"') + 5) } }) },

  // ---- fields ----
  { group: 'fields', name: 'a field value of 9,000 bytes', status: 400, send: () => post('admin', A, 4, { body: { comment: long(9000) }, bytes: junk(CHUNK) }) },
  {
    group: 'fields', name: 'a field value of 1 MiB, chunked (no Content-Length)', status: 400,
    send: () => rawChunk(A, 4, (f, b) => ({
      type: `multipart/form-data; boundary=${b}`,
      chunked: true,
      body: multipartBody([...f, { name: 'comment', value: long(1024 * 1024) }, { name: 'file', filename: 'blob', value: junk(CHUNK) }], b),
    })),
  },
  {
    group: 'fields', name: 'a field value of 1 MiB, with its Content-Length', status: 413,
    send: () => rawChunk(A, 4, (f, b) => {
      const body = multipartBody([...f, { name: 'comment', value: long(1024 * 1024) }, { name: 'file', filename: 'blob', value: junk(CHUNK) }], b)
      return { type: `multipart/form-data; boundary=${b}`, body: body.subarray(0, 16 * 1024), length: body.length }
    }),
  },
  { group: 'fields', name: '40 fields', status: 400, send: () => post('admin', A, 4, { body: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`extra${i}`, 'x'])), bytes: junk(CHUNK) }) },
  { group: 'fields', name: 'a field name of 20,000 characters', status: 400, send: () => post('admin', A, 4, { body: { [long(20_000, 'n')]: 'x' }, bytes: junk(CHUNK) }) },

  // ---- URL against body ----
  { group: 'url vs body', name: 'chunk number 4 in the URL, 5 in the body', status: 400, send: () => post('admin', A, 4, { body: { resumableChunkNumber: '5' }, bytes: junk(CHUNK) }) },
  { group: 'url vs body', name: 'identifier differs', status: 400, send: () => post('admin', A, 4, { body: { resumableIdentifier: editorFile.identifier }, bytes: junk(CHUNK) }) },
  { group: 'url vs body', name: 'total size differs', status: 400, send: () => post('admin', A, 4, { body: { resumableTotalSize: String(6 * CHUNK) }, bytes: junk(CHUNK) }) },
  { group: 'url vs body', name: 'file name differs', status: 400, send: () => post('admin', A, 4, { body: { resumableFilename: '../../etc/passwd' }, bytes: junk(CHUNK) }) },
  { group: 'url vs body', name: 'type differs', status: 400, send: () => post('admin', A, 4, { body: { resumableType: 'text/html' }, bytes: junk(CHUNK) }) },
  { group: 'url vs body', name: 'current chunk size differs', status: 400, send: () => post('admin', A, 4, { body: { resumableCurrentChunkSize: String(CHUNK - 1) }, bytes: junk(CHUNK - 1) }) },

  // ---- who is asking ----
  { group: 'auth', name: 'no session: POST', status: 401, send: () => post('anon', A, 4, { bytes: junk(CHUNK) }) },
  { group: 'auth', name: 'no session: test GET', status: 401, send: () => getTest('anon', A, 1) },
  { group: 'auth', name: 'no session: DELETE', status: 401, send: () => del('anon', { resumableIdentifier: A.identifier }) },
  { group: 'auth', name: 'garbage cookie', status: 401, send: () => post('anon', A, 4, { cookie: 'adminjs=garbage%00%ff', bytes: junk(CHUNK) }) },
  { group: 'auth', name: "forged signature on the admin's session id", status: 401, send: () => post('anon', A, 4, { cookie: forge(adminCookie), bytes: junk(CHUNK) }) },
  { group: 'auth', name: 'session cookie after logout', status: 401, send: () => del('anon', { resumableIdentifier: A.identifier }, { cookie: loggedOutCookie }) },
  { group: 'auth', name: 'viewer: POST', status: 403, send: () => post('viewer', A, 4, { bytes: junk(CHUNK) }) },
  { group: 'auth', name: 'viewer: test GET', status: 403, send: () => getTest('viewer', A, 1) },
  { group: 'auth', name: "viewer: DELETE by the admin's reference", status: 403, send: () => del('viewer', { reference: adminRef }) },
  { group: 'auth', name: 'X-Requested-With missing: POST', status: 403, send: () => post('admin', A, 4, { headers: {}, bytes: junk(CHUNK) }) },
  { group: 'auth', name: 'X-Requested-With "fetch"', status: 403, send: () => post('admin', A, 4, { headers: { 'X-Requested-With': 'fetch' }, bytes: junk(CHUNK) }) },
  { group: 'auth', name: 'X-Requested-With in lower case', status: 403, send: () => post('admin', A, 4, { headers: { 'X-Requested-With': 'xmlhttprequest' }, bytes: junk(CHUNK) }) },
  { group: 'auth', name: 'X-Requested-With missing: test GET', status: 403, send: () => getTest('admin', A, 1, { headers: {} }) },
  { group: 'auth', name: "X-Requested-With missing: DELETE of the admin's own upload", status: 403, send: () => del('admin', { resumableIdentifier: A.identifier }, { headers: {} }) },

  // ---- someone else's upload ----
  { group: 'foreign', name: "editor DELETE by the admin's reference (unfinished)", status: 404, send: () => del('editor', { reference: adminRef }) },
  { group: 'foreign', name: "editor DELETE by the admin's reference (complete)", status: 404, send: () => del('editor', { reference: adminDoneRef }) },
  { group: 'foreign', name: "admin DELETE by the editor's reference", status: 404, send: () => del('admin', { reference: editorRef }) },
  { group: 'foreign', name: "editor DELETE by the admin's identifier (names the editor's own, missing upload)", status: 404, send: () => del('editor', { resumableIdentifier: A.identifier }) },
  // The editor's identifier names an upload of the editor's own, never the admin's; refused, it leaves none.
  { group: 'foreign', name: "editor POST with the admin's identifier and a short body (no upload of the editor's is left)", status: 400, send: () => post('editor', A, 4, { bytes: junk(CHUNK - 1) }) },

  // ---- a refused first chunk creates no upload ----
  { group: 'first chunk', name: 'new upload, body one byte short', status: 400, send: () => post('admin', freshFile('short'), 1, { bytes: signed('application/pdf', CHUNK - 1, 666) }) },
  { group: 'first chunk', name: 'new upload, body one byte long', status: 400, send: () => post('admin', freshFile('long'), 1, { bytes: signed('application/pdf', CHUNK + 1, 666) }) },
  { group: 'first chunk', name: 'new upload, a second file part after the chunk', status: 400, send: () => post('admin', freshFile('second-part'), 1, { parts: [{ name: 'file', data: junk(CHUNK) }, { name: 'file', data: junk(10) }] }) },
  { group: 'first chunk', name: 'new upload, last chunk with a short body', status: 400, send: () => post('admin', freshFile('last-short'), 5, { bytes: junk(10) }) },

  // ---- routes ----
  { group: 'route', name: 'unknown resource', status: 404, send: () => agents.admin.get(`/admin/api/resumable/Nope/file?${queryString(chunkParams(A, 1))}`).set(XHR).then(fromSupertest) },
  { group: 'route', name: 'property without the feature (title)', status: 404, send: () => agents.admin.post(`/admin/api/resumable/Document/title?${queryString(chunkParams(A, 4))}`).set(XHR).attach('file', junk(CHUNK), 'blob').then(fromSupertest) },
  { group: 'route', name: 'the key column filePath', status: 404, send: () => agents.admin.post(`/admin/api/resumable/Document/filePath?${queryString(chunkParams(A, 4))}`).set(XHR).attach('file', junk(CHUNK), 'blob').then(fromSupertest) },
  { group: 'route', name: 'encoded traversal in the resource segment', status: 404, send: () => raw('GET', `/admin/api/resumable/..%2f..%2fDocument/file?${queryString(chunkParams(A, 1))}`, {}) },
  { group: 'route', name: 'PUT', status: 405, send: () => agents.admin.put(`${ENDPOINT}?${queryString(chunkParams(A, 4))}`).set(XHR).attach('file', junk(CHUNK), 'blob').then(fromSupertest) },
  { group: 'route', name: 'PATCH', status: 405, send: () => agents.admin.patch(`${ENDPOINT}?${queryString(chunkParams(A, 4))}`).set(XHR).send('x').then(fromSupertest) },

  // ---- cancelling ----
  { group: 'cancel', name: 'reference ../x', status: 400, send: () => del('admin', { reference: '../x' }) },
  { group: 'cancel', name: 'reference of 41 hex characters', status: 400, send: () => del('admin', { reference: `${adminRef}a` }) },
  { group: 'cancel', name: 'reference in upper case', status: 400, send: () => del('admin', { reference: adminRef.toUpperCase() }) },
  { group: 'cancel', name: 'reference of nobody (40 hex)', status: 404, send: () => del('admin', { reference: NOBODY }) },
  { group: 'cancel', name: 'neither identifier nor reference', status: 400, send: () => del('admin', {}) },
  { group: 'cancel', name: 'identifier of 300 characters', status: 400, send: () => del('admin', { resumableIdentifier: long(300) }) },
  { group: 'cancel', name: 'identifier of no upload', status: 404, send: () => del('admin', { resumableIdentifier: 'never-started' }) },

  // ---- expired ----
  { group: 'expired', name: 'POST a chunk of a swept upload', status: 410, send: () => post('admin', expiredFile, 2) },
  { group: 'expired', name: 'test GET of a swept upload', status: 410, send: () => getTest('admin', expiredFile, 1) },

  // ---- Save with a bad reference: a validation error on `file`, no record ----
  ...([
    ['unfinished upload of the admin', () => adminRef],
    ['expired upload', () => expiredRef],
    ['cancelled upload', () => cancelledRef],
    ["the editor's complete upload", () => editorDoneRef],
    ['../x', () => '../x'],
    ['../../../../etc/passwd', () => '../../../../etc/passwd'],
    ['/etc/passwd', () => '/etc/passwd'],
    ['40 hex of nobody', () => NOBODY],
    ['complete reference in upper case', () => adminDoneRef.toUpperCase()],
    ['complete reference with a trailing newline', () => `${adminDoneRef}\n`],
    ['the Resumable.js identifier instead of the reference', () => adminDoneFile.identifier],
    ['empty object syntax __FORM_VALUE_EMPTY_OBJECT__', () => '__FORM_VALUE_EMPTY_OBJECT__'],
  ] as const).map(([what, ref]): Case => ({
    group: 'save', name: `admin: ${what}`, status: 200, kind: 'save',
    send: () => save('admin', [['title', `hostile ${what}`], ['file', ref()]]),
  })),
  { group: 'save', name: "editor: the admin's complete upload", status: 200, kind: 'save', send: () => save('editor', [['title', 'steal'], ['file', adminDoneRef]]) },
  { group: 'save', name: "editor: the admin's unfinished upload", status: 200, kind: 'save', send: () => save('editor', [['title', 'steal'], ['file', adminRef]]) },
  { group: 'save', name: 'nested object syntax file.path=/etc/passwd', status: 200, kind: 'save', send: () => save('admin', [['title', 'nested'], ['file.path', '/etc/passwd']]) },
  { group: 'save', name: 'nested object syntax file.0=<complete reference>', status: 200, kind: 'save', send: () => save('admin', [['title', 'nested'], ['file.0', adminDoneRef]]) },
  {
    group: 'save', name: 'file sent twice, urlencoded (an array)', status: 200, kind: 'save',
    send: () => agents.admin.post(NEW_URL).type('form').send(`title=twice&file=${adminDoneRef}&file=${adminDoneRef}`).then(fromSupertest),
  },
  { group: 'save', name: 'file sent twice, multipart, two bad values', status: 200, kind: 'save', send: () => save('admin', [['title', 'twice'], ['file', '../x'], ['file', NOBODY]]) },
  { group: 'save', name: 'bad reference plus filePath=/etc/passwd', status: 200, kind: 'save', send: () => save('admin', [['title', 'path'], ['file', '../x'], ['filePath', '/etc/passwd'], ['fileName', 'passwd']]) },
]

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Waits until `name` exists in `dir` (the server is writing that chunk), then gives the server up to
 * half a second to finish with it (the lock going away). Only a pacing aid for the sender: nothing
 * is asserted on time.
 */
async function lockHeldThenSettled(dir: string, name: string): Promise<void> {
  const present = async () => (await readdir(dir).catch(() => [] as string[])).includes(name)
  for (let i = 0; i < 2000 && !(await present()); i++) await pause(5)
  for (let i = 0; i < 50 && (await present()); i++) await pause(10)
}

function fromSupertestPromise(req: PromiseLike<request.Response>): Promise<Reply> {
  return Promise.resolve(req).then(fromSupertest)
}

/** The admin's real session id with a signature made up by the attacker. */
function forge(cookie: string): string {
  const match = /^adminjs=s%3A([^.]+)\.(.+)$/.exec(cookie)
  if (!match) throw new Error(`unexpected cookie format: ${cookie}`)
  return `adminjs=s%3A${match[1]}.${Buffer.from('forged-signature-forged-signature').toString('base64').replace(/=+$/, '')}`
}

// ---------------------------------------------------------------------------------------------
// Set-up

/** The one staged upload of `owner` with this (sanitised) file name, found by its manifest. */
async function findUpload(owner: string, filename: string): Promise<string> {
  const found: string[] = []
  for (const name of await readdir(staging)) {
    const manifest = await readFile(join(staging, name, 'manifest.json'), 'utf8').then(JSON.parse, () => null)
    if (manifest?.owner === owner && manifest.filename === filename) found.push(name)
  }
  if (found.length !== 1) throw new Error(`expected one upload of ${owner} named ${filename}, found ${found.length}`)
  expect(found[0]).toMatch(HEX40)
  return found[0]
}

async function uploadChunks(who: keyof typeof agents, file: FileSpec, numbers: number[]): Promise<Reply[]> {
  const replies: Reply[] = []
  for (const n of numbers) {
    const reply = await post(who, file, n)
    if (reply.status !== 200) throw new Error(`set-up chunk ${n} of ${file.identifier}: ${reply.status} ${reply.text}`)
    replies.push(reply)
  }
  return replies
}

beforeAll(async () => {
  t = await startTestApp({ env: { MAX_UPLOAD_SIZE: String(MAX), ALLOWED_TYPES: ALLOWED, CHUNK_SIZE: String(CHUNK) } })
  staging = join(t.uploadDir, '.staging')
  agents.admin = await login(t.app, 'admin@example.com')
  agents.editor = await login(t.app, 'editor@example.com')
  agents.viewer = await login(t.app, 'viewer@example.com')
  agents.anon = request.agent(t.app)
  adminCookie = await loginCookie(t.app, 'admin@example.com')
  loggedOutCookie = await loginCookie(t.app, 'editor@example.com')
  await request(t.app).get('/admin/logout').set('Cookie', loggedOutCookie)
  server = await new Promise<Server>((resolve) => {
    const s = t.app.listen(0, '127.0.0.1', () => resolve(s))
  })
  // As example-app/server.js sets up its server.
  guardHttpServer(server)

  await uploadChunks('admin', adminFile, [1, 2, 3])
  await uploadChunks('editor', editorFile, [1, 2])
  adminRef = await findUpload('admin', adminFile.filename)
  editorRef = await findUpload('editor', editorFile.filename)

  // An upload swept by expiry: its files are aged past the TTL, then the store's own sweep runs.
  await uploadChunks('admin', expiredFile, [1])
  expiredRef = await findUpload('admin', expiredFile.filename)
  const featureId = (t.admin.findResource('Document').decorate().getPropertyByKey('file')?.options.custom as { featureId: string }).featureId
  const feature = findFeature(t.admin, featureId)!
  const old = new Date(Date.now() - 3 * 24 * 3600_000)
  for (const name of ['received', 'manifest.json', '']) await utimes(join(staging, expiredRef, name), old, old)
  const swept = await feature.storage.staging.sweep(feature.ttlMs)
  expect(swept.expired).toEqual([expiredRef])

  // A finished upload, cancelled.
  const [done] = await uploadChunks('admin', cancelledFile, [1])
  expect(done.body).toEqual({ status: 'complete', reference: expect.stringMatching(HEX40) })
  cancelledRef = done.body.reference
  expect((await del('admin', { resumableIdentifier: cancelledFile.identifier })).status).toBe(200)

  // Finished uploads that belong to one admin each.
  adminDoneRef = (await uploadChunks('admin', adminDoneFile, [1]))[0].body.reference
  editorDoneRef = (await uploadChunks('editor', editorDoneFile, [1]))[0].body.reference
  expect(adminDoneRef).toMatch(HEX40)
  expect(editorDoneRef).toMatch(HEX40)
  expect(await findUpload('admin', adminDoneFile.filename)).toBe(adminDoneRef)

  // Both held uploads hold exactly what was sent.
  expect(await readFile(join(staging, adminRef, 'received'))).toEqual(Buffer.from([1, 1, 1, 0, 0]))
  expect(await readFile(join(staging, editorRef, 'received'))).toEqual(Buffer.from([1, 1, 0, 0]))
})

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  await t?.close()
})

interface Snapshot {
  outside: Tree
  all: Tree
  held: Record<string, Record<string, string>>
  records: number
}

async function snapshot(): Promise<Snapshot> {
  return {
    outside: await listTree(t.uploadDir, { skipTop: ['.staging'] }),
    all: await listTree(t.uploadDir),
    held: {
      admin: await uploadFingerprint(staging, adminRef),
      editor: await uploadFingerprint(staging, editorRef),
      adminDone: await uploadFingerprint(staging, adminDoneRef),
      editorDone: await uploadFingerprint(staging, editorDoneRef),
    },
    records: await t.Document.count(),
  }
}

// ---------------------------------------------------------------------------------------------
// The table, run

describe('hostile input', () => {
  it('has at least 60 rows that must be refused', () => {
    expect(CASES.filter((c) => c.kind !== 'sanitised').length).toBeGreaterThanOrEqual(60)
    expect(new Set(CASES.map((c) => `${c.group}: ${c.name}`)).size).toBe(CASES.length)
  })

  it.each(CASES)('$group: $name → $status', async (c) => {
    const kind = c.kind ?? 'refused'
    const before = await snapshot()

    const reply = await c.send()
    expect({ status: reply.status, body: reply.body }).toMatchObject({ status: c.status })

    if (kind === 'refused') {
      expect(reply.headers['content-type']).toMatch(/^application\/json/)
      expect(reply.body).toMatchObject({ status: 'error', code: expect.any(String), message: expect.any(String) })
      expect(reply.body.message.length).toBeGreaterThan(10)
    } else if (kind === 'save') {
      expect(reply.headers['content-type']).toMatch(/^application\/json/)
      const message = reply.body?.record?.errors?.file?.message
      expect(typeof message).toBe('string')
      expect(message.length).toBeGreaterThan(10)
      expect(reply.body.record.id).toBeFalsy()
      expect(await t.Document.count()).toBe(before.records)
    } else {
      expect(reply.body).toMatchObject({ status: 'complete', reference: expect.stringMatching(HEX40) })
      const reference = reply.body.reference as string
      const manifest = JSON.parse(await readFile(join(staging, reference, 'manifest.json'), 'utf8'))
      expect(manifest.filename).toBe(c.storedName)
      expect(manifest.owner).toBe('admin')
      expect(manifest.filename).not.toMatch(/[/\\\p{Cc}\u2215\uFF0F]/u)
      expect(manifest.filename).not.toMatch(/^[.\u2024\uFF0E]/)
      expect(Buffer.byteLength(manifest.filename)).toBeLessThanOrEqual(200)
      // Every name at the top of the staging folder is one the server made.
      for (const name of await readdir(staging)) expect(name).toMatch(/^[a-f0-9]{40}(\.expired)?$/)
      // Clean up through the API, so that the whole tree can be compared below.
      expect((await del('admin', { reference })).status).toBe(200)
    }
    await c.check?.(reply)

    const after = await snapshot()
    expect(treeDiff(before.outside, after.outside)).toEqual([])
    if (kind === 'sanitised' || (c.creates ?? 'nothing') === 'nothing') {
      expect(treeDiff(before.all, after.all)).toEqual([])
    }
    expect(after.held).toEqual(before.held)
    expect(after.records).toBe(before.records)

    const next = await testChunk(agents.admin, adminFile, 1)
    expect(next.status).toBe(200)
    expect(next.body).toEqual({ status: 'held', complete: false })
  })
})

// ---------------------------------------------------------------------------------------------
// Save may not be steered by columns the server owns

describe('columns the server owns are ignored in the Save payload', () => {
  async function freshComplete(identifier: string, filename: string, seed: number): Promise<{ file: FileSpec; reference: string }> {
    const file: FileSpec = { identifier, filename, type: 'application/pdf', data: signed('application/pdf', 3000, seed), chunkSize: CHUNK }
    const [reply] = await uploadChunks('admin', file, [1])
    expect(reply.body.status).toBe('complete')
    return { file, reference: reply.body.reference }
  }

  it('new with a valid reference and filePath=/etc/passwd: the server sets filePath, fileName, fileSize', async () => {
    const { file, reference } = await freshComplete('owned-1', '../../../etc/passwd.pdf', 21)
    const before = await listTree(t.uploadDir, { skipTop: ['.staging'] })
    const reply = await save('admin', [
      ['title', 'owned'], ['file', reference], ['filePath', '/etc/passwd'], ['fileName', '../../x'], ['fileSize', '1'], ['fileMimeType', 'text/html'],
    ])
    expect(reply.status).toBe(200)
    expect(reply.body.record.errors ?? {}).toEqual({})
    const id = reply.body.record.id as string
    const row = (await t.Document.findByPk(id))!.get() as Record<string, unknown>
    expect(row).toMatchObject({ filePath: `documents/${id}/passwd.pdf`, fileName: 'passwd.pdf', fileMimeType: 'application/pdf' })
    expect(Number(row.fileSize)).toBe(3000)
    expect(sha256(await readFile(join(t.uploadDir, 'documents', String(id), 'passwd.pdf')))).toBe(sha256(file.data))
    // Exactly the saved file (and its folders) appeared outside staging.
    expect(treeDiff(before, await listTree(t.uploadDir, { skipTop: ['.staging'] })).map((d) => d.split(' (')[0]).sort())
      .toEqual([`+ documents/${id}`, `+ documents/${id}/passwd.pdf`, ...(before.documents ? [] : ['+ documents'])].sort())
  })

  it('new with filePath but no file: the record has no file', async () => {
    const reply = await save('admin', [['title', 'no file'], ['filePath', '../../../etc/passwd'], ['fileName', 'passwd'], ['fileSize', '7']])
    expect(reply.status).toBe(200)
    const row = (await t.Document.findByPk(reply.body.record.id))!.get() as Record<string, unknown>
    expect(row).toMatchObject({ filePath: null, fileName: null, fileSize: null })
  })

  it('edit with filePath only: the stored filePath does not change', async () => {
    const { reference } = await freshComplete('owned-2', 'kept.pdf', 22)
    const created = await save('admin', [['title', 'keep'], ['file', reference]])
    const id = created.body.record.id as string
    const stored = ((await t.Document.findByPk(id))!.get() as Record<string, unknown>).filePath
    expect(stored).toBe(`documents/${id}/kept.pdf`)
    const reply = await agents.admin.post(`/admin/api/resources/Document/records/${id}/edit`)
      .field('title', 'keep 2').field('filePath', '/etc/shadow').field('fileName', 'shadow')
    expect(reply.status).toBe(200)
    const row = (await t.Document.findByPk(id))!.get() as Record<string, unknown>
    expect(row.filePath).toBe(stored)
  })

  it('new with keys under the owned columns (filePath.0, fileName.a.b, fileSize.0) and no file: the record has no file', async () => {
    const reply = await save('admin', [
      ['title', 'nested owned'], ['filePath.0', '../../../etc/passwd'], ['filePath.1', 'x'], ['fileName.a.b', 'passwd'],
      ['fileSize.0', '7'], ['fileMimeType.0', 'text/html'],
    ])
    expect(reply.status).toBe(200)
    expect(reply.body.record.errors ?? {}).toEqual({})
    const row = (await t.Document.findByPk(reply.body.record.id))!.get() as Record<string, unknown>
    expect(row).toMatchObject({ title: 'nested owned', filePath: null, fileName: null, fileSize: null, fileMimeType: null })
  })

  it('new with a valid reference and filePath.0=/etc/passwd: the server sets filePath', async () => {
    const { file, reference } = await freshComplete('owned-3', 'nested.pdf', 23)
    const reply = await save('admin', [['title', 'nested ref'], ['file', reference], ['filePath.0', '/etc/passwd'], ['fileName.0', 'passwd']])
    expect(reply.status).toBe(200)
    expect(reply.body.record.errors ?? {}).toEqual({})
    const id = reply.body.record.id as string
    const row = (await t.Document.findByPk(id))!.get() as Record<string, unknown>
    expect(row).toMatchObject({ filePath: `documents/${id}/nested.pdf`, fileName: 'nested.pdf' })
    expect(sha256(await readFile(join(t.uploadDir, 'documents', String(id), 'nested.pdf')))).toBe(sha256(file.data))
  })

  it('edit with filePath.0 and filePath.path: the stored filePath does not change', async () => {
    const { reference } = await freshComplete('owned-4', 'kept-nested.pdf', 24)
    const created = await save('admin', [['title', 'keep nested'], ['file', reference]])
    const id = created.body.record.id as string
    const stored = ((await t.Document.findByPk(id))!.get() as Record<string, unknown>).filePath
    expect(stored).toBe(`documents/${id}/kept-nested.pdf`)
    const reply = await agents.admin.post(`/admin/api/resources/Document/records/${id}/edit`)
      .field('title', 'keep nested 2').field('filePath.0', '/etc/shadow').field('filePath.path', '/etc/shadow')
    expect(reply.status).toBe(200)
    expect(reply.body.record.errors ?? {}).toEqual({})
    const row = (await t.Document.findByPk(id))!.get() as Record<string, unknown>
    expect(row).toMatchObject({ title: 'keep nested 2', filePath: stored })
  })
})

// ---------------------------------------------------------------------------------------------
// A refused client reads its answer: lingering close, and no 100 Continue for a refused request

describe('a refused client reads its whole answer', () => {
  const BIG = 30 * 1024 * 1024
  const anonymousMultipart = { 'Content-Type': 'multipart/form-data; boundary=naiveBoundary', 'Content-Length': BIG }
  const chunkUrl = () => `${ENDPOINT}?${queryString(chunkParams(adminFile, 4))}`

  it('anonymous 30 MiB multipart to an admin action, sent in full before reading: the whole 401 JSON', async () => {
    const out = await sendAllThenRead(server, { method: 'POST', path: NEW_URL, headers: anonymousMultipart }, { size: BIG })
    expect(out.sentAll).toBe(true)
    expect(out.reply).toMatchObject({ status: 401, body: { status: 'error', code: 'not_authenticated', message: expect.any(String) } })
    expect(out.reply!.headers.connection).toBe('close')
  })

  it('anonymous 30 MiB chunk POST, sent in full before reading: the whole 401 JSON', async () => {
    const out = await sendAllThenRead(server, { method: 'POST', path: chunkUrl(), headers: { ...XHR, ...anonymousMultipart } }, { size: BIG })
    expect(out.sentAll).toBe(true)
    expect(out.reply).toMatchObject({ status: 401, body: { status: 'error', code: 'not_authenticated' } })
  })

  it('logged in: a 30 MiB chunk POST (over the request limit), sent in full before reading: the whole 413 JSON', async () => {
    const out = await sendAllThenRead(server, { method: 'POST', path: chunkUrl(), headers: { ...XHR, Cookie: adminCookie, ...anonymousMultipart } }, { size: BIG })
    expect(out.sentAll).toBe(true)
    expect(out.reply).toMatchObject({ status: 413, body: { status: 'error', code: 'too_large' } })
  })

  it('logged in: a 30 MiB Save body (over maxBodySize), sent in full before reading: the whole 413 JSON', async () => {
    const out = await sendAllThenRead(server, { method: 'POST', path: NEW_URL, headers: { Cookie: adminCookie, ...anonymousMultipart } }, { size: BIG })
    expect(out.sentAll).toBe(true)
    expect(out.reply).toMatchObject({ status: 413, body: { status: 'error', code: 'too_large' } })
  })

  it('Expect: 100-continue, anonymous, on an admin action and on the chunk route: 401 without 100 Continue', async () => {
    for (const path of [NEW_URL, chunkUrl(), '/admin/resources/Document/actions/new']) {
      const { statuses, reply } = await expectContinue(server, { method: 'POST', path, headers: { ...XHR, ...anonymousMultipart } }, Buffer.alloc(0))
      expect({ path, statuses }).toEqual({ path, statuses: [401] })
      expect(reply.headers.connection).toBe('close')
    }
  })

  it('Expect: 100-continue, logged in, over the limits: 413 without 100 Continue', async () => {
    for (const path of [NEW_URL, chunkUrl()]) {
      const { statuses, reply } = await expectContinue(server, { method: 'POST', path, headers: { ...XHR, Cookie: adminCookie, ...anonymousMultipart } }, Buffer.alloc(0))
      expect({ path, statuses }).toEqual({ path, statuses: [413] })
      expect(reply.body).toMatchObject({ status: 'error', code: 'too_large' })
    }
  })

  it('Expect: 100-continue, logged in, a good chunk and a good Save: 100 Continue, then 200', async () => {
    const file = oddFile('continued.pdf')
    const params = chunkParams(file, 1)
    const b = 'continueBoundary'
    const chunk = multipartBody([...Object.entries(params).map(([name, value]) => ({ name, value })), { name: 'file', filename: 'blob', value: chunkBytes(file, 1) }], b)
    const posted = await expectContinue(server, {
      method: 'POST', path: `${ENDPOINT}?${queryString(params)}`,
      headers: { ...XHR, Cookie: adminCookie, 'Content-Type': `multipart/form-data; boundary=${b}`, 'Content-Length': chunk.length },
    }, chunk)
    expect(posted.statuses).toEqual([100, 200])
    expect(posted.reply.body).toEqual({ status: 'complete', reference: expect.stringMatching(HEX40) })
    const form = multipartBody([{ name: 'title', value: 'continued' }, { name: 'file', value: posted.reply.body.reference }], b)
    const saved = await expectContinue(server, {
      method: 'POST', path: NEW_URL,
      headers: { Cookie: adminCookie, 'Content-Type': `multipart/form-data; boundary=${b}`, 'Content-Length': form.length },
    }, form)
    expect(saved.statuses).toEqual([100, 200])
    expect(saved.reply.body.record.errors ?? {}).toEqual({})
    const row = (await t.Document.findByPk(saved.reply.body.record.id))!.get() as Record<string, unknown>
    expect(sha256(await readFile(join(t.uploadDir, String(row.filePath))))).toBe(sha256(file.data))
  })
})

// ---------------------------------------------------------------------------------------------
// Slow clients: an idle connection is cut, a slow chunk that keeps making progress is not

describe('slow clients (idle timeout per connection)', () => {
  const IDLE_MS = 1000
  let slow: Server
  beforeAll(async () => {
    slow = await new Promise<Server>((resolve) => {
      const s = t.app.listen(0, '127.0.0.1', () => resolve(s))
    })
    guardHttpServer(slow, { idleTimeoutMs: IDLE_MS })
  })
  afterAll(async () => {
    slow.closeAllConnections()
    await new Promise<void>((resolve) => slow.close(() => resolve()))
  })

  it('an anonymous login body that stops arriving is cut after the idle time', async () => {
    const body = Buffer.from('email=admin%40example.com&password=password')
    const cut = rawRequest(slow, {
      method: 'POST', path: '/admin/login',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': body.length },
    }, body.subarray(0, 10))
    await expect(cut).rejects.toThrow(/closed without a response/)
  })

  it('a chunk POST sent in 25 pieces, 100 ms apart (well past the idle time in all), is stored', async () => {
    const file = oddFile('slow.pdf')
    const params = chunkParams(file, 1)
    const b = 'slowBoundary'
    const body = multipartBody([...Object.entries(params).map(([name, value]) => ({ name, value })), { name: 'file', filename: 'blob', value: chunkBytes(file, 1) }], b)
    const size = Math.ceil(body.length / 25)
    const pieces = Array.from({ length: 25 }, (_, i) => body.subarray(i * size, (i + 1) * size)).filter((p) => p.length)
    const reply = await trickleRequest(slow, {
      method: 'POST', path: `${ENDPOINT}?${queryString(params)}`,
      headers: { ...XHR, Cookie: adminCookie, 'Content-Type': `multipart/form-data; boundary=${b}`, 'Content-Length': body.length },
    }, pieces, 100)
    expect(reply.status).toBe(200)
    expect(reply.body).toEqual({ status: 'complete', reference: expect.stringMatching(HEX40) })
    expect(sha256(await readFile(join(staging, reply.body.reference, 'complete')))).toBe(sha256(file.data))
    expect((await del('admin', { reference: reply.body.reference })).status).toBe(200)
  })
})

// ---------------------------------------------------------------------------------------------
// After the storm: nothing leaked, both held uploads finish with their original bytes

describe('after every hostile row', () => {
  it('leaves no chunk lock behind', async () => {
    expect(await lockFiles(t.uploadDir)).toEqual([])
  })

  it("the editor's test GET for the admin's identifier does not see the admin's chunks", async () => {
    const reply = await testChunk(agents.editor, adminFile, 1)
    expect(reply.status).toBe(204)
  })

  it('both held uploads complete with exactly their original bytes', async () => {
    const adminReplies = await uploadChunks('admin', adminFile, [4, 5])
    expect(adminReplies[1].body).toEqual({ status: 'complete', reference: adminRef })
    expect(sha256(await readFile(join(staging, adminRef, 'complete')))).toBe(sha256(adminFile.data))
    const editorReplies = await uploadChunks('editor', editorFile, [3, 4])
    expect(editorReplies[1].body).toEqual({ status: 'complete', reference: editorRef })
    expect(sha256(await readFile(join(staging, editorRef, 'complete')))).toBe(sha256(editorFile.data))
  })
})
