/**
 * Closing: `closeResumableUploads(admin)` stops every timer the features of one AdminJS instance
 * started and forgets them, so an app (or a test that builds many) can end without leaving anything
 * behind in module state or on the event loop.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, jest, test } from '@jest/globals'
import type AdminJS from 'adminjs'
import { closeResumableUploads } from 'adminjs-resumable'
import { Sequelize } from 'sequelize'
import { featuresOf, findFeature, type RegisteredFeature } from '../src/upload/registry.js'
import { login, startTestApp } from './support/app.js'
import { postChunk, bytes, testChunk, type FileSpec } from './support/resumable-client.js'
import { defineAdmin, defineDocument } from './support/stack.js'

const dirs: string[] = []
afterEach(() => {
  jest.useRealTimers()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function featureIdOf(admin: AdminJS): string {
  return (admin.findResource('Document').decorate().getPropertyByKey('file')?.options.custom as { featureId: string }).featureId
}

/** The tests' AdminJS instance on a database it never connects to: only the features run. */
function buildAdmin(sweepIntervalMs: number): { admin: AdminJS; feature: RegisteredFeature } {
  const dir = mkdtempSync(join(tmpdir(), 'adminjs-resumable-close-'))
  dirs.push(dir)
  const Document = defineDocument(new Sequelize({ dialect: 'sqlite', storage: ':memory:', logging: false }))
  const admin = defineAdmin({ env: { SWEEP_INTERVAL_MS: String(sweepIntervalMs) }, Document, uploadDir: join(dir, 'uploads') })
  const feature = findFeature(admin, featureIdOf(admin))
  if (!feature) throw new Error('the Document resource has no resumable feature')
  return { admin, feature }
}

describe('closeResumableUploads', () => {
  test('stops the sweep timer and forgets the features of that instance only', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] })
    const before = jest.getTimerCount()
    const one = buildAdmin(60_000)
    const two = buildAdmin(60_000)
    expect(jest.getTimerCount()).toBe(before + 2)
    await Promise.all([one.feature.ready, two.feature.ready])

    await closeResumableUploads(one.admin)
    expect(jest.getTimerCount()).toBe(before + 1)
    expect(findFeature(one.admin, one.feature.id)).toBeUndefined()
    expect(featuresOf(one.admin)).toEqual([])
    expect(findFeature(two.admin, two.feature.id)).toBe(two.feature)

    await closeResumableUploads(two.admin)
    expect(jest.getTimerCount()).toBe(before)
    expect(featuresOf(two.admin)).toEqual([])
    // Closing twice is harmless.
    await closeResumableUploads(two.admin)
  })

  test('waits for a sweep that is running, and no sweep starts afterwards', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] })
    const { admin, feature } = buildAdmin(1_000)
    await feature.ready
    let release!: () => void
    const sweeps: number[] = []
    feature.storage.staging.sweep = async () => {
      sweeps.push(Date.now())
      await new Promise<void>((resolve) => { release = resolve })
      return { expired: [], removedLeftovers: 0 }
    }
    await jest.advanceTimersByTimeAsync(1_000)
    expect(sweeps).toHaveLength(1)
    let closed = false
    const closing = closeResumableUploads(admin).then(() => { closed = true })
    await Promise.resolve()
    await Promise.resolve()
    expect(closed).toBe(false)
    release()
    await closing
    await jest.advanceTimersByTimeAsync(10_000)
    expect(sweeps).toHaveLength(1)
  })

  test('a closed app no longer serves its chunk route; its uploads stay on disk', async () => {
    const first = await startTestApp({ env: { SWEEP_INTERVAL_MS: '60000' } })
    const file: FileSpec = { identifier: 'close-1', filename: 'a.bin', data: bytes(3 * 64 * 1024, 5), chunkSize: 64 * 1024 }
    try {
      const agent = await login(first.app, 'admin@example.com')
      expect((await postChunk(agent, file, 1)).status).toBe(200)
      const id = featureIdOf(first.admin)
      await closeResumableUploads(first.admin)
      expect(findFeature(first.admin, id)).toBeUndefined()
      const after = await testChunk(agent, file, 1)
      expect(after.status).toBe(404)
      expect(after.body.code).toBe('not_found')
      const staged = (await readdir(join(first.uploadDir, '.staging'))).filter((name) => /^[a-f0-9]{40}$/.test(name))
      expect(staged).toHaveLength(1)
    } finally {
      await first.close()
    }
  })
})
