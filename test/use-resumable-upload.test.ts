/**
 * @jest-environment ./test/support/jsdom-app-environment.mjs
 * @jest-environment-options {"customExportConditions": ["browser"]}
 *
 * useResumableUpload on its own: a bare component renders the hook in jsdom, with the real
 * resumablejs sending through jsdom's XMLHttpRequest to a real example app (see the environment).
 */
import { afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import React, { useEffect } from 'react'
import { createRoot, type Root } from 'react-dom/client'
import { readCustom } from '../src/shared/custom.js'
import { CLEAR_MARKER, PENDING_MARKER } from '../src/shared/markers.js'
import { useResumableUpload, type ResumableUpload } from '../components/use-resumable-upload.js'

const { url } = (globalThis as unknown as { __APP__: { url: string } }).__APP__
const KiB = 1024
const custom = readCustom({
  endpoint: '/admin/api/resumable', chunkSize: 64 * KiB, simultaneousUploads: 3, maxSize: 1024 * KiB,
  properties: { key: 'filePath', file: 'file' },
})
const target = '/admin/api/resumable/Document/file'

/** A plain request from the page (same origin, same cookie jar as Resumable.js's). */
function request(method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((done, fail) => {
    const xhr = new XMLHttpRequest()
    xhr.open(method, `${url}${path}`)
    if (body !== undefined) xhr.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded')
    xhr.onload = () => done({ status: xhr.status, text: xhr.responseText })
    xhr.onerror = () => fail(new Error(`${method} ${path} failed`))
    xhr.send(body)
  })
}

async function logIn(): Promise<void> {
  const res = await request('POST', '/admin/login', 'email=admin%40example.com&password=password')
  // The redirect is followed to the dashboard; a failed login stays on the form.
  if (res.status !== 200 || /name="password"/.test(res.text)) throw new Error(`login failed: ${res.status}`)
}

let seq = 0
function file(size: number, name = `hook-${++seq}.bin`): File {
  const data = new Uint8Array(size)
  for (let i = 0; i < size; i += 1) data[i] = (i * 31 + seq) & 0xff
  return new File([data], name, { type: 'application/octet-stream', lastModified: 1_700_000_000_000 + seq })
}

let root: Root | null = null
let upload: ResumableUpload
let values: Array<string | undefined>
let effectsRan = false

/** Every state the hook rendered, with when: how often progress reaches React. */
let rendered: Array<{ at: number; state: ResumableUpload['state'] }> = []

function Harness(): null {
  upload = useResumableUpload({ custom, target, onValue: (value) => { values.push(value) } })
  if (rendered[rendered.length - 1]?.state !== upload.state) rendered.push({ at: Date.now(), state: upload.state })
  // Runs after the hook's own effects: the Resumable.js instance exists from here on.
  useEffect(() => { effectsRan = true }, [])
  return null
}

async function until(what: string, ready: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!ready()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; state ${JSON.stringify(upload?.state)}`)
    await new Promise((resolve) => { setTimeout(resolve, 20) })
  }
}

async function mount(): Promise<void> {
  values = []
  rendered = []
  effectsRan = false
  const container = document.createElement('div')
  document.body.appendChild(container)
  root = createRoot(container)
  root.render(React.createElement(Harness))
  await until('the hook to mount', () => effectsRan)
}

beforeAll(logIn)
afterEach(() => {
  root?.unmount()
  root = null
})

describe('useResumableUpload', () => {
  test('a chosen file is uploaded: PENDING_MARKER goes into the form, then the reference; actions keep their identity', async () => {
    await mount()
    const { choose, pause, cancel } = upload
    expect(upload.supported).toBe(true)
    expect(upload.state.phase).toBe('idle')
    choose([file(200 * KiB)])
    await until('complete', () => upload.state.phase === 'complete')
    expect(upload.state.progress).toMatchObject({ percent: 100, bytes: 200 * KiB })
    expect(values[0]).toBe(PENDING_MARKER)
    expect(values[values.length - 1]).toMatch(/^[a-f0-9]{40}$/)
    expect([upload.choose, upload.pause, upload.cancel]).toEqual([choose, pause, cancel])

    // Discard: the form value this hook put there goes away.
    upload.cancel()
    await until('idle', () => upload.state.phase === 'idle')
    expect(values[values.length - 1]).toBeUndefined()
  })

  test('progress renders at most every 250 ms however many chunks succeed; the end renders at once', async () => {
    await mount()
    // 16 chunks of 64 KiB to a local app: many chunk answers a second, each one a progress event.
    upload.choose([file(1024 * KiB)])
    await until('complete', () => upload.state.phase === 'complete')
    const uploading = rendered.filter((r) => r.state.phase === 'uploading')
    expect(uploading.length).toBeGreaterThan(0)
    const span = uploading[uploading.length - 1].at - uploading[0].at
    // One render on the phase change, then one per 250 ms interval at most (+1 for a boundary).
    expect(uploading.length).toBeLessThanOrEqual(2 + Math.ceil(span / 250))
    const last = rendered[rendered.length - 1].state
    expect(last.phase).toBe('complete')
    expect(last.progress).toMatchObject({ percent: 100, bytes: 1024 * KiB })
  })

  test('refused files (several, empty, too large) send nothing and leave the form alone', async () => {
    await mount()
    upload.choose([file(KiB), file(KiB)])
    await until('refused', () => upload.state.phase === 'refused')
    expect(upload.state.error).toEqual({ kind: 'validation', problem: { code: 'many' } })
    upload.choose([file(0)])
    await until('empty refused', () => (upload.state.error as { problem?: { code: string } })?.problem?.code === 'empty')
    upload.choose([file(1024 * KiB + 1)])
    await until('too large', () => (upload.state.error as { problem?: { code: string } })?.problem?.code === 'too_large')
    expect(values).toEqual([])
  })

  test('clear and undo put CLEAR_MARKER into the form and take it out again', async () => {
    await mount()
    upload.clear()
    await until('cleared', () => upload.state.cleared)
    upload.undoClear()
    await until('not cleared', () => !upload.state.cleared)
    expect(values).toEqual([CLEAR_MARKER, undefined])
  })

  test('without a session the upload stops in auth-required; after logging in again Retry completes it', async () => {
    await mount()
    expect((await request('GET', '/admin/logout')).status).toBe(200)
    upload.choose([file(150 * KiB)])
    await until('auth-required', () => upload.state.phase === 'auth-required')
    expect(upload.state.error).toEqual({ kind: 'auth' })
    expect(values).toEqual([PENDING_MARKER])

    await logIn()
    upload.retry()
    await until('complete after retry', () => upload.state.phase === 'complete')
    expect(values[values.length - 1]).toMatch(/^[a-f0-9]{40}$/)
  })
})
