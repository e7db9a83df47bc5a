/**
 * The browser and the server share one protocol (src/shared): the same type rule, the same error
 * codes, the same markers. Each test here puts the edit component's verdict next to the server's,
 * through the real route where the server decides.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import * as errors from '../src/errors.js'
import { mergeParams, parseChunkRequest, type UploadRules } from '../src/protocol/chunk-request.js'
import { ERROR_CODE, ERROR_CODES } from '../src/shared/error-codes.js'
import { checkFile } from '../components/rules.js'
import { parseAnswer } from '../components/protocol.js'
import { failure } from '../components/upload-state.js'
import { login, startTestApp, type Agent, type TestApp } from './support/app.js'
import { bytes, chunkParams, ENDPOINT, uploadAll, XHR, type FileSpec } from './support/resumable-client.js'

const CHUNK = 64 * 1024
let seq = 0
function spec(filename: string, type: string): FileSpec {
  seq += 1
  return { identifier: `shared-${process.pid}-${seq}`, filename, type, data: bytes(CHUNK + 100, seq), chunkSize: CHUNK }
}

/** The component's pre-check with the limits the feature hands it. */
function browserAccepts(file: FileSpec, limits: { mimeTypes: string[]; extensions: string[] }): boolean {
  return checkFile({ name: file.filename, size: file.data.length, type: file.type ?? '' }, { maxSize: 0, ...limits }) === null
}

/** The server's verdict on the first chunk (the route checks the type on every chunk). */
async function serverAccepts(agent: Agent, file: FileSpec): Promise<boolean> {
  const res = await agent.get(ENDPOINT).query(chunkParams(file, 1)).set(XHR)
  if (res.status === 415) return false
  if (res.status !== 204) throw new Error(`unexpected ${res.status} ${res.text}`)
  return true
}

describe('the type rule, from both entry points', () => {
  const rules: UploadRules = { chunkSize: 1000, forceChunkSize: false, maxSize: 100_000, mimeTypes: ['*/*'] }
  const params = (filename: string, type: string) => mergeParams({
    resumableChunkNumber: '1', resumableChunkSize: '1000', resumableCurrentChunkSize: '1000', resumableTotalSize: '5000',
    resumableType: type, resumableIdentifier: 'x', resumableFilename: filename,
  }, {})

  test.each([['video/mp4', 'a.mp4'], ['', 'a.unknown'], ['application/x-anything', 'a']])(
    '"*/*" lets any file through, in the browser and on the server (%j, %j)',
    (type, filename) => {
      expect(checkFile({ name: filename, size: 5000, type }, { maxSize: 0, mimeTypes: ['*/*'], extensions: [] })).toBeNull()
      expect(parseChunkRequest(params(filename, type), rules).filename).toBe(filename)
    },
  )
})

describe('the browser and the route agree (example app)', () => {
  let wildcard: TestApp
  let limited: TestApp
  let wildcardAgent: Agent
  let limitedAgent: Agent
  const LIMITS = { mimeTypes: ['video/*', 'application/x-foo'], extensions: ['mp4', 'foo', 'bin'] }

  beforeAll(async () => {
    wildcard = await startTestApp({ env: { ALLOWED_TYPES: '*/*' } })
    limited = await startTestApp({ env: { ALLOWED_TYPES: LIMITS.mimeTypes.join(','), ALLOWED_EXTENSIONS: LIMITS.extensions.join(',') } })
    wildcardAgent = await login(wildcard.app, 'admin@example.com')
    limitedAgent = await login(limited.app, 'admin@example.com')
  })
  afterAll(async () => {
    await wildcard?.close()
    await limited?.close()
  })

  test('with mimeTypes ["*/*"] a file uploads, as the browser expects', async () => {
    const file = spec('clip.mp4', 'video/mp4')
    expect(browserAccepts(file, { mimeTypes: ['*/*'], extensions: [] })).toBe(true)
    expect(await uploadAll(wildcardAgent, file)).toMatch(/^[a-f0-9]{40}$/)
  })

  test.each([
    // No declared type: inferred from the extension, then matched.
    ['a.foo', '', false], // the extension is allowed but nothing says the file is application/x-foo
    ['a.mp4', '', true],
    ['a.bin', '', false],
    ['a.foo', 'application/x-foo', true],
    ['a.foo', 'not a type', false],
    ['a.txt', 'video/mp4', false],
    ['a.mp4', 'video/mp4', true],
  ])('%j declared as %j: both say %j', async (filename, type, expected) => {
    const file = spec(filename as string, type as string)
    expect(browserAccepts(file, LIMITS)).toBe(expected)
    expect(await serverAccepts(limitedAgent, file)).toBe(expected)
  })

  test('a 401 from the route is read by the component as "log in again"', async () => {
    const res = await wildcardAgent.get(ENDPOINT).query(chunkParams(spec('a.bin', ''), 1)) // no X-Requested-With: 403
    expect(failure(parseAnswer(res.text)?.code).phase).toBe('failed')
    const anonymous = await (await import('supertest')).default(wildcard.app).get(ENDPOINT).query(chunkParams(spec('a.bin', ''), 1)).set(XHR)
    expect(anonymous.status).toBe(401)
    expect(failure(parseAnswer(anonymous.text)?.code)).toEqual({ phase: 'auth-required', error: { kind: 'auth' } })
  })
})

describe('error codes', () => {
  type ErrorClass = new (message: string) => errors.ResumableError
  const classes = (Object.values(errors) as unknown[]).filter(
    (value): value is ErrorClass => typeof value === 'function' && value.prototype instanceof errors.ResumableError,
  )

  test('the shared list is exactly the codes the server\'s error classes send', () => {
    expect(classes.map((C) => new C('m').code).sort()).toEqual([...ERROR_CODES].sort())
  })

  test('the component recognises every code the server sends, and reacts to session and expiry errors', () => {
    for (const C of classes) {
      const error = new C('the message')
      const answer = parseAnswer(JSON.stringify(error.toJSON()))
      expect(answer).toEqual({ status: 'error', code: error.code, message: 'the message', reference: undefined })
    }
    expect(failure(new errors.NotAuthenticated('m').code).phase).toBe('auth-required')
    expect(failure(new errors.UploadExpired('m').code, 'gone').error).toEqual({ kind: 'expired', message: 'gone' })
    expect(failure(new errors.ChunkBusy('m').code).error).toMatchObject({ kind: 'server', retryable: true })
    expect(failure(new errors.TypeNotAllowed('m').code).error).toMatchObject({ kind: 'server', retryable: false })
  })

  test('the components name no error code outside the shared list', () => {
    const dir = join(process.cwd(), 'components')
    const source = readdirSync(dir).filter((f) => /\.tsx?$/.test(f)).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n')
    const mentioned = [...source.matchAll(/['"]([a-z]+(?:_[a-z]+)+)['"]/g)].map((m) => m[1])
    // Problem codes of the browser's own pre-check are not server codes: too_large is both.
    const own = new Set(['too_large'])
    expect(mentioned.filter((code) => !own.has(code) && !(ERROR_CODES as readonly string[]).includes(code))).toEqual([])
    expect(ERROR_CODE.notAuthenticated).toBe('not_authenticated')
  })
})
