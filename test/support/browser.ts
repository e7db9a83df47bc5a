import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'
import { REQUIRED } from './services.js'

/** The Debian Chromium; never a downloaded browser. Override with CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium'

/**
 * Why the browser tests cannot run here, or null when they can. Under CI=true a missing browser is
 * an error (thrown), elsewhere a loud warning: the caller then registers a test that says so.
 */
export function browserMissing(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null
  const message = `Chromium not found at ${CHROMIUM_PATH}`
  if (REQUIRED) throw new Error(`${message} (CI=true requires it for the browser end-to-end tests)`)
  console.warn(`\n!!! SKIPPING browser end-to-end tests: ${message}\n`)
  return message
}

export interface Browser {
  context: BrowserContext
  profileDir: string
  close(): Promise<void>
}

/** Headless Chromium with a fresh profile (Playwright refuses --user-data-dir in args). */
export async function launchBrowser(options: { viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  const profileDir = mkdtempSync(join(tmpdir(), 'adminjs-resumable-chromium-'))
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: options.viewport ?? { width: 1280, height: 900 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  })
  return {
    context,
    profileDir,
    async close() {
      await context.close().catch(() => undefined)
      rmSync(profileDir, { recursive: true, force: true })
    },
  }
}
