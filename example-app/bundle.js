// Builds AdminJS's browser bundles for production, with this plugin's components in them:
// `npm run bundle`, then start the app with NODE_ENV=production ADMIN_JS_SKIP_BUNDLE=true
// (docs/production.md). Your own app does the same with its own ComponentLoader: the one its
// features were given, so that every component they registered is bundled.
import { dirname, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// AdminJS decides how to bundle (minified, React's production build) when it is first imported.
process.env.NODE_ENV = 'production'
const { bundle } = await import('@adminjs/bundler')
const { connect, defineAdmin, defineDocument, defineGallery, uploadDirOf } = await import('./app.js')
const { assetsDir } = await import('./production-assets.js')

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
// @adminjs/bundler takes its folders relative to the working directory (node_modules/adminjs, ...).
process.chdir(root)
const env = process.env
// Defining the model and the AdminJS instance opens no connection: only the components matter.
const sequelize = connect(env)
const admin = defineAdmin({ env, Document: defineDocument(sequelize), Gallery: defineGallery(sequelize), uploadDir: uploadDirOf(env), sequelize })
const destinationDir = assetsDir(env)
await bundle({
  componentLoader: admin.options.componentLoader,
  destinationDir: relative(root, destinationDir),
  adminJsLocalDir: relative(root, resolve(env.ADMIN_JS_TMP_DIR || '.adminjs')),
})
await sequelize.close()
console.log(`AdminJS bundles written to ${destinationDir}`)
