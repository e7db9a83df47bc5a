/**
 * The packed package in a team's own app: `npm pack`, the tarball and the peers from the npm
 * registry installed into a scratch app outside the repo, running examples/your-app/app.js (the
 * README's "Use it in your app") on this run's Node and Express (`npm run test:matrix` runs it on
 * Node 20, 22, 24 × Express 4, 5). It logs in, uploads through the chunk route, saves through
 * AdminJS's `new` action, downloads a range, and survives 250 MiB anonymous bodies aimed at the
 * resumable prefix, the chunk route and an AdminJS action, leaving nothing in its temp folder.
 */
import http from 'node:http'
import { mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { floodPost, MiB, settledListing } from './support/flood.js'
import { expectMatrixCell, expressMajor } from './support/matrix.js'
import {
  freshRunDir, installScratchApp, listening, packTarball, runApp, tarballFiles, type AppProcess,
} from './support/packed-app.js'
import { HttpClient, REPO, referenceOf, resumableUpload, saveDocument, savedRecord } from './support/processes.js'
import { bytes, sha256, type FileSpec } from './support/resumable-client.js'

const SECRET = 'packed-app-test-secret-0123456789abcdef'
const PASSWORD = 'packed-app-password'
const major = expressMajor()

let runDir: string
let appDir: string
let tarball: string
let app: AppProcess | null = null
let url: string
let tmp: string

beforeAll(() => {
  expectMatrixCell()
  runDir = freshRunDir()
  tarball = packTarball(join(runDir, 'pack'))
  appDir = installScratchApp(tarball, major)
  // This run's components bundle, not one left by an earlier run.
  rmSync(join(appDir, '.adminjs'), { recursive: true, force: true })
}, 600_000)

afterAll(async () => {
  await app?.stop()
  if (runDir) rmSync(runDir, { recursive: true, force: true })
})

function appEnv(): Record<string, string> {
  tmp = join(runDir, 'tmp')
  mkdirSync(tmp, { recursive: true })
  return {
    PORT: '0',
    NODE_ENV: 'development',
    SESSION_SECRET: SECRET,
    ADMIN_PASSWORD: PASSWORD,
    DATABASE_FILE: join(runDir, 'app.sqlite'),
    UPLOAD_DIR: join(runDir, 'uploads'),
    TMPDIR: tmp,
  }
}

/** GET with the raw bytes of the answer (HttpClient decodes text). */
function getBytes(base: string, path: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; data: Buffer }> {
  return new Promise((resolve, reject) => {
    http.get(new URL(path, base), { headers, agent: false }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => parts.push(d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, data: Buffer.concat(parts) }))
      res.on('error', reject)
    }).on('error', reject)
  })
}

describe('the packed tarball', () => {
  test('holds the compiled server code, its types, the compiled components and the README; no sources or tests', () => {
    const files = tarballFiles(tarball)
    for (const file of ['package/package.json', 'package/README.md', 'package/docs/production.md', 'package/lib/index.js', 'package/lib/index.d.ts',
      'package/lib/route/router.js', 'package/components/dist/components/ResumableEdit.js', 'package/components/dist/components/ResumableShow.js',
      'package/components/dist/components/ResumableList.js']) {
      expect(files).toContain(file)
    }
    expect(files.filter((f) => /^package\/(src|test|example-app|examples|bench)\//.test(f))).toEqual([])
  })
})

describe(`examples/your-app/app.js installed from the tarball (Node ${process.versions.node}, Express ${major})`, () => {
  test('refuses to start without a session secret, naming it', async () => {
    const { SESSION_SECRET: _omitted, ...env } = appEnv()
    const run = runApp(appDir, env)
    const { code } = await run.exited
    expect(code).toBe(1)
    expect(run.output()).toMatch(/SESSION_SECRET/)
  })

  test('boots; staff log in, upload in chunks, save, download a range; its components are in the bundle', async () => {
    app = runApp(appDir, appEnv())
    url = await listening(app)
    const client = await HttpClient.login(url, 'admin@example.com', PASSWORD)

    const data = bytes(11 * MiB + 12345, 7)
    const file: FileSpec = { identifier: `${data.length}-packed`, filename: 'report.bin', data, chunkSize: 5 * MiB }
    const run = await resumableUpload(client, file)
    expect(run.failure).toBeNull()
    expect(run.posted.size).toBe(2) // 5 MiB, then the rest: a multi-chunk upload
    const saved = savedRecord(await saveDocument(client, 'packed', referenceOf(run)))
    expect(saved).toMatchObject({ fileName: 'report.bin', fileSize: data.length })

    const download = `/admin/api/resumable/Document/file/download/${saved.id}`
    const part = await getBytes(url, download, { Cookie: client.cookie!, Range: 'bytes=5000000-5999999' })
    expect(part.status).toBe(206)
    expect(part.headers['content-range']).toBe(`bytes 5000000-5999999/${data.length}`)
    expect(sha256(part.data)).toBe(sha256(data.subarray(5_000_000, 6_000_000)))
    const whole = await getBytes(url, download, { Cookie: client.cookie! })
    expect(whole.status).toBe(200)
    expect(sha256(whole.data)).toBe(sha256(data))

    // Development mode: AdminJS bundles the components it found in the installed package. The
    // bundle is written in the background after start-up: wait for it (bounded).
    let bundle = ''
    for (let i = 0; i < 600 && !bundle.includes('ResumableUploadEdit'); i++) {
      const answer = await client.request('GET', '/admin/frontend/assets/components.bundle.js')
      bundle = answer.status === 200 ? answer.text : ''
      if (!bundle.includes('ResumableUploadEdit')) await new Promise((r) => setTimeout(r, 500))
    }
    expect(bundle).toContain('ResumableUploadEdit')
    expect(bundle).toContain('ResumableUploadShow')
  }, 600_000)

  test.each([
    ['an unmatched path under the resumable prefix', '/admin/api/resumable/x/y/z', [404]],
    ['the chunk route', '/admin/api/resumable/Document/file', [401]],
    ['an AdminJS action', '/admin/api/resources/Document/actions/new', [401]],
  ])('a 250 MiB anonymous multipart POST to %s is answered 4xx JSON; the app lives on, no temp file left', async (_what, path, statuses) => {
    expect(app?.alive()).toBe(true)
    const answer = await floodPost(url, path, { bytes: 250 * MiB })
    expect(answer.errorCode).toBeUndefined()
    expect(statuses).toContain(answer.status)
    expect(answer.body).toMatchObject({ status: 'error', message: expect.any(String) })
    expect(await settledListing(tmp)).toEqual([])
    expect(app!.alive()).toBe(true)
    const login = await new HttpClient(url).request('GET', '/admin/login')
    expect(login.status).toBe(200)
  })

  test('the scratch app ran from outside the repo, on the package from the tarball', () => {
    expect(appDir.startsWith(REPO)).toBe(false)
    expect(readdirSync(join(appDir, 'node_modules', 'adminjs-resumable')).sort()).toEqual(
      expect.arrayContaining(['components', 'lib', 'package.json', 'README.md']),
    )
    expect(readdirSync(join(appDir, 'node_modules', 'adminjs-resumable'))).not.toContain('src')
  })
})
