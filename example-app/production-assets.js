// Production mode: AdminJS's browser bundles (its own and the components of this plugin) are built
// once, before deploying, by `npm run bundle` (example-app/bundle.js, @adminjs/bundler), and the app
// serves that folder instead of bundling at start-up. Bundling at start-up needs rollup and babel in
// the server, tens of MiB and seconds on every start, and AdminJS answers the first requests
// without components while it runs.
import express from 'express'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

/** Where the app serves the prebuilt bundles. */
export const ASSETS_PATH = '/admin-assets'

/** The names AdminJS's pages load (layout-template.js); `bundle()` writes all four. */
export const BUNDLES = ['components.bundle.js', 'app.bundle.js', 'global.bundle.js', 'design-system.bundle.js']

export function assetsDir(env = process.env) {
  return resolve(env.ADMIN_ASSETS_DIR || join(here, 'public', 'admin-assets'))
}

/**
 * AdminJS reads these two from the process's environment, not from createApp's `env`: with both,
 * it neither bundles at start-up nor serves a bundle of its own, and loads `assetsCDN`'s.
 */
export function usesPrebuiltBundles() {
  return process.env.NODE_ENV === 'production' && process.env.ADMIN_JS_SKIP_BUNDLE === 'true'
}

/** AdminJS's `assetsCDN`: an absolute URL (AdminJS resolves the bundle names against it). */
export function assetsUrl(env = process.env) {
  const url = env.ADMIN_ASSETS_URL || `http://${env.HOST || '127.0.0.1'}:${env.PORT || 3000}${ASSETS_PATH}/`
  return url.endsWith('/') ? url : `${url}/`
}

/** Serves the prebuilt bundles; refuses to start without them rather than serve pages that cannot load. */
export function servePrebuiltBundles(app, env = process.env) {
  const dir = assetsDir(env)
  const missing = BUNDLES.filter((name) => !existsSync(join(dir, name)))
  if (missing.length) {
    throw new Error(`NODE_ENV=production with ADMIN_JS_SKIP_BUNDLE=true needs AdminJS's prebuilt bundles in ${dir}`
      + ` (ADMIN_ASSETS_DIR), but ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing: run \`npm run bundle\` first.`)
  }
  app.use(ASSETS_PATH, express.static(dir, { index: false }))
}
