/** The example app listening on loopback for a browser, and the page steps browser tests share. */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { BrowserContext, Page } from 'playwright-core'
import { startTestApp, type TestApp } from './app.js'

export interface Listening {
  app: TestApp
  server: Server
  base: string
  close(): Promise<void>
}

export async function listen(env: Record<string, string>): Promise<Listening> {
  const app = await startTestApp({ env })
  const server = app.app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve())
    server.once('error', reject)
  })
  server.requestTimeout = 0
  const { port } = server.address() as AddressInfo
  return {
    app,
    server,
    base: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => { server.close(() => resolve()) })
      await app.close()
    },
  }
}

export async function logIn(page: Page, base: string, email = 'admin@example.com'): Promise<void> {
  await page.goto(`${base}/admin/login`)
  await page.fill('input[name=email]', email)
  await page.fill('input[name=password]', 'password')
  await Promise.all([
    page.waitForURL((url) => !url.pathname.endsWith('/login')),
    page.click('form[action$="/login"] button'),
  ])
}

/** Throttles the page's uploads (Chromium's DevTools network emulation). */
export async function throttleUploads(context: BrowserContext, page: Page, bytesPerSecond: number): Promise<void> {
  const cdp = await context.newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: bytesPerSecond,
  })
}
