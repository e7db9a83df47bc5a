/**
 * buildAuthenticatedRouter's session cookie: `SameSite=Lax` unless the app chose otherwise.
 */
import AdminJS from 'adminjs'
import express from 'express'
import request from 'supertest'
import { describe, expect, test } from '@jest/globals'
import { buildAuthenticatedRouter } from '../src/route/mount.js'

process.env.ADMIN_JS_SKIP_BUNDLE = 'true'

function app(cookie?: Record<string, unknown>) {
  const admin = new AdminJS({ rootPath: '/admin', resources: [] })
  const server = express()
  server.use('/admin', buildAuthenticatedRouter(admin, {
    authenticate: async (email: string) => (email === 'a@example.com' ? { email } : null),
    cookieName: 'adminjs',
    cookiePassword: 'a-long-enough-cookie-password-for-the-mount-test',
  }, null, { secret: 'replaced by cookiePassword', resave: false, saveUninitialized: false, ...(cookie ? { cookie } : {}) }))
  return server
}

async function sessionCookie(server: express.Express): Promise<string> {
  const res = await request(server).post('/admin/login').type('form').send({ email: 'a@example.com', password: 'x' })
  expect(res.status).toBe(302)
  const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('adminjs='))
  expect(cookie).toBeDefined()
  return cookie!
}

describe('the session cookie', () => {
  test('is SameSite=Lax when the app does not say', async () => {
    expect(await sessionCookie(app())).toMatch(/;\s*SameSite=Lax(;|$)/i)
    // Also when the app sets other cookie options only.
    const withOptions = await sessionCookie(app({ httpOnly: true, maxAge: 60_000 }))
    expect(withOptions).toMatch(/;\s*SameSite=Lax(;|$)/i)
    expect(withOptions).toMatch(/Expires=/)
  })

  test("keeps the app's own sameSite", async () => {
    expect(await sessionCookie(app({ sameSite: 'strict' }))).toMatch(/;\s*SameSite=Strict(;|$)/i)
    expect(await sessionCookie(app({ sameSite: 'none', secure: false }))).toMatch(/;\s*SameSite=None(;|$)/i)
  })
})
