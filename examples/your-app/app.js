// A complete AdminJS app with resumable uploads: Express, AdminJS, Sequelize on SQLite, sessions
// kept in the database. Install and start it as the README's "Use it in your app" says:
//   SESSION_SECRET=<32+ random characters> ADMIN_PASSWORD=<password> node app.js
import { createHash, timingSafeEqual } from 'node:crypto'
import AdminJS, { ComponentLoader } from 'adminjs'
import * as AdminJSSequelize from '@adminjs/sequelize'
import express from 'express'
import session from 'express-session'
import connectSessionSequelize from 'connect-session-sequelize'
import { DataTypes, Sequelize } from 'sequelize'
import { buildAuthenticatedRouter, guardHttpServer, resumableUploadFeature } from 'adminjs-resumable'

const env = process.env
// Refuse to start rather than answer every admin request with an error later.
if (!env.SESSION_SECRET || env.SESSION_SECRET.length < 32) {
  console.error('Set SESSION_SECRET to a random string of at least 32 characters (it signs the session cookie).')
  process.exit(1)
}
if (!env.ADMIN_PASSWORD) {
  console.error('Set ADMIN_PASSWORD: the password of the admin account (ADMIN_EMAIL, default admin@example.com).')
  process.exit(1)
}

AdminJS.registerAdapter({ Resource: AdminJSSequelize.Resource, Database: AdminJSSequelize.Database })

const sequelize = new Sequelize({ dialect: 'sqlite', storage: env.DATABASE_FILE || 'app.sqlite', logging: false })
const Document = sequelize.define('Document', {
  title: { type: DataTypes.STRING, allowNull: false },
  // The file's key (its path under the storage folder) and what Save records about it.
  filePath: { type: DataTypes.TEXT },
  fileName: { type: DataTypes.TEXT },
  fileSize: { type: DataTypes.BIGINT },
  fileMimeType: { type: DataTypes.TEXT },
})
const SequelizeStore = connectSessionSequelize(session.Store)
const sessionStore = new SequelizeStore({ db: sequelize, tableName: 'Sessions' })
await sequelize.sync()
await sessionStore.sync()

const uploadDir = env.UPLOAD_DIR || 'uploads'
const componentLoader = new ComponentLoader()
const admin = new AdminJS({
  rootPath: '/admin',
  componentLoader,
  resources: [{
    resource: Document,
    options: { id: 'Document' },
    features: [resumableUploadFeature({
      componentLoader,
      properties: { key: 'filePath', file: 'file', filename: 'fileName', size: 'fileSize', mimeType: 'fileMimeType' },
      // Keep staging on the same file system as the storage folder: finishing a file is a rename.
      storage: { local: { directory: uploadDir, stagingDirectory: `${uploadDir}/.staging` } },
      uploadPath: (record, filename) => `documents/${record.id()}/${filename}`,
      validation: { maxSize: 10 * 1024 ** 3 },
      chunkSize: 5 * 1024 * 1024,
    })],
  }],
})

// One account from the environment; look your users up here instead.
const adminEmail = env.ADMIN_EMAIL || 'admin@example.com'
const digest = (text) => createHash('sha256').update(text).digest()
async function authenticate(email, password) {
  const ok = email === adminEmail && timingSafeEqual(digest(password), digest(env.ADMIN_PASSWORD))
  return ok ? { email: adminEmail, title: 'Admin' } : null
}

// Same arguments as @adminjs/express's buildAuthenticatedRouter (plus options of ours last): it also
// mounts the chunk and download routes, sharing AdminJS's session, and guards every admin URL
// against oversized or anonymous bodies.
const router = buildAuthenticatedRouter(admin, {
  authenticate,
  cookieName: 'adminjs',
  cookiePassword: env.SESSION_SECRET,
}, null, {
  store: sessionStore,
  resave: false,
  saveUninitialized: false,
  cookie: { httpOnly: true, sameSite: 'lax', secure: env.COOKIE_SECURE === 'true' },
})

const app = express()
app.use(admin.options.rootPath, router)
// Development: AdminJS bundles the components (ours among them) and rebuilds them on change. In
// production, build the bundle before starting (docs/production.md in its repository says how).
if (env.NODE_ENV !== 'production') await admin.watch()

const port = Number(env.PORT || 3000)
const host = env.HOST || '127.0.0.1'
const server = app.listen(port, host, (error) => {
  if (error) return // Express 5 passes listen errors here too; the 'error' handler reports them
  console.log(`AdminJS is at http://${host}:${server.address().port}${admin.options.rootPath}`)
})
server.on('error', (error) => {
  console.error(`Cannot listen on ${host}:${port}: ${error.message}`)
  process.exit(1)
})
// Chunks over slow links take their time: an idle timeout per connection instead of a total one,
// and `100 Continue` only for bodies that are going to be read.
guardHttpServer(server)
