import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import request from 'supertest'
import { createStack } from './stack.js'

export interface TestApp {
  app: import('express').Express
  admin: import('adminjs').default
  sequelize: import('sequelize').Sequelize
  Document: import('sequelize').ModelStatic<import('sequelize').Model>
  uploadDir: string
  workDir: string
  close(): Promise<void>
}

/** The tests' app (support/stack.ts) on a fresh SQLite file (or the given PostgreSQL URL) and a fresh upload folder. */
export async function startTestApp(options: {
  databaseUrl?: string | null
  env?: Record<string, string>
  /** Merged into the Document feature's options (hooks). */
  feature?: Partial<import('../../src/feature/options.js').ResumableUploadFeatureOptions>
} = {}): Promise<TestApp> {
  const workDir = mkdtempSync(join(tmpdir(), 'adminjs-resumable-test-'))
  const env: Record<string, string> = {
    UPLOAD_DIR: join(workDir, 'uploads'),
    SWEEP_INTERVAL_MS: '0',
    CHUNK_SIZE: String(64 * 1024),
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : { DATABASE_FILE: join(workDir, 'db.sqlite') }),
    ...options.env,
  }
  const built = await createStack(env, { feature: options.feature })
  return {
    ...built,
    workDir,
    async close() {
      await built.close()
      rmSync(workDir, { recursive: true, force: true })
    },
  }
}

export type Agent = ReturnType<typeof request.agent>

/** Logs in through the real AdminJS login form and returns an agent carrying the session cookie. */
export async function login(app: TestApp['app'], email: string, password = 'password'): Promise<Agent> {
  const agent = request.agent(app)
  const res = await agent.post('/admin/login').type('form').send({ email, password })
  if (res.status !== 302 || !String(res.headers.location).startsWith('/admin')) {
    throw new Error(`login as ${email} failed: ${res.status} ${res.headers.location}`)
  }
  const check = await agent.get('/admin/api/resources/Document/actions/list')
  if (check.status !== 200) throw new Error(`login as ${email} did not stick: ${check.status}`)
  return agent
}
