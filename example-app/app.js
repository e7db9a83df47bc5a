// The example app: Express + AdminJS + Sequelize with one `Document` resource whose `file`
// property is uploaded in chunks. It imports adminjs-resumable through the package's public
// entry, exactly as an application would.
import AdminJS, { ComponentLoader } from 'adminjs'
import * as AdminJSSequelize from '@adminjs/sequelize'
import express from 'express'
import session from 'express-session'
import connectSessionSequelize from 'connect-session-sequelize'
import { Sequelize, DataTypes } from 'sequelize'
import { mkdir, readdir, stat, rm } from 'node:fs/promises'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { resumableUploadFeature, buildAuthenticatedRouter, closeResumableUploads, resumableUploadsReady, withResumableLocales } from 'adminjs-resumable'
import { assetsUrl, servePrebuiltBundles, usesPrebuiltBundles } from './production-assets.js'
import { ensureBucket, storageOption } from './storage.js'

AdminJS.registerAdapter({ Resource: AdminJSSequelize.Resource, Database: AdminJSSequelize.Database })

const here = dirname(fileURLToPath(import.meta.url))

export function accounts(env = process.env) {
  return [
    { id: 'admin', email: 'admin@example.com', role: 'admin', password: env.ADMIN_PASSWORD || 'password' },
    { id: 'editor', email: 'editor@example.com', role: 'editor', password: env.EDITOR_PASSWORD || 'password' },
    { id: 'viewer', email: 'viewer@example.com', role: 'viewer', password: env.VIEWER_PASSWORD || 'password' },
  ]
}

const canWrite = ({ currentAdmin }) => !!currentAdmin && currentAdmin.role !== 'viewer'

export function connect(env = process.env) {
  const logging = env.SQL_LOG ? console.log : false
  if (env.DATABASE_URL) return new Sequelize(env.DATABASE_URL, { logging })
  const storage = env.DATABASE_FILE || join(here, 'data', 'app.sqlite')
  return new Sequelize({ dialect: 'sqlite', storage, logging })
}

export function defineDocument(sequelize) {
  return sequelize.define('Document', {
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
    title: { type: DataTypes.STRING, allowNull: false },
    filePath: { type: DataTypes.TEXT },
    fileName: { type: DataTypes.TEXT },
    fileSize: { type: DataTypes.BIGINT },
    fileMimeType: { type: DataTypes.STRING },
    fileChecksum: { type: DataTypes.STRING(64) },
    fileMetadata: { type: DataTypes.TEXT },
  }, { tableName: 'Documents' })
}

/**
 * A title and an ordered list of images (`multiple: true`): each column holds a JSON array with one
 * entry per image, as @adminjs/upload's `multiple` does. On PostgreSQL JSONB or ARRAY columns work
 * the same way.
 */
export function defineGallery(sequelize) {
  return sequelize.define('Gallery', {
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
    title: { type: DataTypes.STRING, allowNull: false },
    imagePaths: { type: DataTypes.JSON },
    imageNames: { type: DataTypes.JSON },
    imageSizes: { type: DataTypes.JSON },
    imageMimeTypes: { type: DataTypes.JSON },
    imageRelativePaths: { type: DataTypes.JSON },
    imageChecksums: { type: DataTypes.JSON },
  }, { tableName: 'Galleries' })
}

/**
 * In development AdminJS serves `.adminjs/bundle.js` as it finds it, even when components changed:
 * rebuild it when it is older than the compiled components, before the first page is served. The
 * build runs in a child process (bundle-components.js): rollup and babel grow the heap by tens of
 * MiB that V8 hands back only slowly, and this server runs for weeks.
 */
async function ensureComponentsBundle(admin, env) {
  // AdminJS reads these from the process's environment, not from createApp's `env`. In production
  // it bundles in-process unless ADMIN_JS_SKIP_BUNDLE=true (see production-assets.js).
  if (process.env.NODE_ENV === 'production') return admin.initialize()
  // The same path as adminjs/bundler's COMPONENTS_OUTPUT_PATH.
  const output = join(process.env.ADMIN_JS_TMP_DIR || '.adminjs', 'bundle.js')
  const distDir = resolve(here, '..', 'components', 'dist')
  const compiled = (await readdir(distDir, { recursive: true })).filter((f) => f.endsWith('.js'))
  const newest = Math.max(0, ...await Promise.all(compiled.map((f) => stat(join(distDir, f)).then((s) => s.mtimeMs))))
  const bundle = await stat(output).catch(() => null)
  if (bundle && bundle.mtimeMs > newest && !process.env.FORCE_BUNDLE) return
  const child = spawn(process.execPath, [join(here, 'bundle-components.js')], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'pipe'] })
  let errors = ''
  child.stderr.on('data', (text) => { errors = (errors + text).slice(-4000) })
  const [code, signal] = await once(child, 'exit')
  if (code !== 0) throw new Error(`Building the AdminJS components bundle failed (${signal ?? `exit code ${code}`}):\n${errors}`)
}

/** Writes `.adminjs/bundle.js` for the example app's components; bundle-components.js runs it. */
export async function bundleComponents(env = process.env) {
  // Defining the model and the AdminJS instance opens no connection: only the components matter.
  const sequelize = connect(env)
  const admin = defineAdmin({
    env, Document: defineDocument(sequelize), Gallery: defineGallery(sequelize), uploadDir: uploadDirOf(env), sequelize,
  })
  const { componentsBundler, generateUserComponentEntry, ADMIN_JS_TMP_DIR, COMPONENTS_OUTPUT_PATH } = await import('adminjs/bundler')
  await rm(COMPONENTS_OUTPUT_PATH, { force: true })
  await componentsBundler.createEntry({ content: generateUserComponentEntry(admin, ADMIN_JS_TMP_DIR) })
  await componentsBundler.build()
  await sequelize.close()
}

/**
 * English and German, German's AdminJS texts included: ADMIN_LANGUAGE picks the one a page opens
 * in, and the language menu in the top bar switches between them.
 */
export function exampleLocale(env = process.env) {
  return withResumableLocales({
    language: env.ADMIN_LANGUAGE || 'en',
    availableLanguages: ['en', 'de'],
    // The language picked in the menu survives page loads (i18next's detector, reading and writing
    // only localStorage): without this AdminJS starts every full page load in `language` again.
    localeDetection: true,
    detection: { order: ['localStorage'], caches: ['localStorage'], lookupLocalStorage: 'adminjs-language' },
    translations: {
      de: {
        labels: { Document: 'Dokumente', Gallery: 'Galerien' },
        resources: {
          Document: { properties: { title: 'Titel', file: 'Datei', createdAt: 'Erstellt', updatedAt: 'Geändert' } },
          Gallery: { properties: { title: 'Titel', images: 'Bilder', createdAt: 'Erstellt', updatedAt: 'Geändert' } },
        },
      },
    },
  })
}

/** The EICAR anti-virus test file starts with this; a real app would hand `read()` to its scanner. */
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'

/** A stand-in virus scan: reads the file's first bytes and refuses the EICAR test signature. */
async function scanUpload({ read }) {
  let head = Buffer.alloc(0)
  for await (const piece of read()) {
    head = Buffer.concat([head, piece])
    if (head.length >= EICAR.length) break
  }
  if (head.subarray(0, EICAR.length).toString('latin1') === EICAR) {
    return { refuse: 'The virus scan refused this file (EICAR test signature).' }
  }
  return { metadata: { scan: 'clean' } }
}

/**
 * The example's AdminJS instance: a `Document` resource whose `file` is uploaded in chunks and a
 * `Gallery` resource whose `images` are a list of images.
 */
export function defineAdmin({ env = process.env, Document, Gallery, uploadDir, sequelize }) {
  const componentLoader = new ComponentLoader()
  const writeOnly = { isAccessible: canWrite }
  const storage = storageOption(env, uploadDir, sequelize)
  const limits = {
    uploadsPerAdmin: Number(env.UPLOADS_PER_ADMIN || 20),
    bytesPerAdmin: env.UPLOAD_BYTES_PER_ADMIN ? Number(env.UPLOAD_BYTES_PER_ADMIN) : undefined,
  }
  const chunkSize = Number(env.CHUNK_SIZE || 5 * 1024 * 1024)
  const expiry = {
    ttlMs: Number(env.UPLOAD_TTL_MS || 24 * 3600 * 1000),
    sweepIntervalMs: Number(env.SWEEP_INTERVAL_MS ?? 3600 * 1000),
  }
  const gallery = {
    resource: Gallery,
    options: {
      id: 'Gallery',
      listProperties: ['id', 'title', 'images', 'updatedAt'],
      showProperties: ['id', 'title', 'images', 'createdAt', 'updatedAt'],
      editProperties: ['title', 'images'],
      actions: { new: writeOnly, edit: writeOnly, delete: writeOnly, bulkDelete: writeOnly },
    },
    features: [resumableUploadFeature({
      componentLoader,
      multiple: true,
      properties: {
        key: 'imagePaths', file: 'images', filename: 'imageNames', size: 'imageSizes',
        mimeType: 'imageMimeTypes', relativePath: 'imageRelativePaths',
        ...(env.CHECKSUMS !== 'off' ? { checksum: 'imageChecksums' } : {}),
      },
      storage,
      uploadPath: (record, filename) => `galleries/${record.id()}/${filename}`,
      validation: { maxSize: Number(env.MAX_UPLOAD_SIZE || 50 * 1024 ** 3), mimeTypes: ['image/*'] },
      limits,
      chunkSize,
      simultaneousUploads: 3,
      expiry,
    })],
  }
  return new AdminJS({
    rootPath: '/admin',
    componentLoader,
    assetsCDN: usesPrebuiltBundles() ? assetsUrl(env) : undefined,
    branding: { companyName: 'adminjs-resumable example', withMadeWithLove: false },
    locale: exampleLocale(env),
    resources: [{
      resource: Document,
      options: {
        id: 'Document',
        listProperties: ['id', 'title', 'file', 'updatedAt'],
        showProperties: ['id', 'title', 'file', 'createdAt', 'updatedAt'],
        editProperties: ['title', 'file'],
        // With CHECKSUMS=off the column is not mapped by the feature (which hides what it maps):
        // an always-empty column has no place in the filter panel either.
        ...(env.CHECKSUMS === 'off' ? { properties: { fileChecksum: { isVisible: false } } } : {}),
        actions: { new: writeOnly, edit: writeOnly, delete: writeOnly, bulkDelete: writeOnly },
      },
      features: [resumableUploadFeature({
        componentLoader,
        properties: {
          key: 'filePath', file: 'file', filename: 'fileName', size: 'fileSize', mimeType: 'fileMimeType',
          // The file's SHA-256 on the record unless CHECKSUMS=off (its cost: bench/RESULTS.md).
          ...(env.CHECKSUMS !== 'off' ? { checksum: 'fileChecksum' } : {}),
          metadata: 'fileMetadata',
        },
        onUploadComplete: scanUpload,
        storage,
        uploadPath: (record, filename) => `documents/${record.id()}/${filename}`,
        validation: {
          maxSize: Number(env.MAX_UPLOAD_SIZE || 50 * 1024 ** 3),
          mimeTypes: env.ALLOWED_TYPES ? env.ALLOWED_TYPES.split(',') : undefined,
          extensions: env.ALLOWED_EXTENSIONS ? env.ALLOWED_EXTENSIONS.split(',') : undefined,
        },
        limits,
        chunkSize,
        simultaneousUploads: 3,
        expiry,
      })],
    }, gallery],
  })
}

/** Where the example keeps files on the local disk: UPLOAD_DIR, or example-app/uploads. */
export function uploadDirOf(env = process.env) {
  return resolve(env.UPLOAD_DIR || join(here, 'uploads'))
}

export async function createApp(env = process.env) {
  const sequelize = connect(env)
  const Document = defineDocument(sequelize)
  const Gallery = defineGallery(sequelize)
  const uploadDir = uploadDirOf(env)
  if (!env.DATABASE_URL) await mkdir(dirname(env.DATABASE_FILE || join(here, 'data', 'app.sqlite')), { recursive: true })

  const SequelizeStore = connectSessionSequelize(session.Store)
  const sessionStore = new SequelizeStore({
    db: sequelize,
    tableName: 'Sessions',
    checkExpirationInterval: 15 * 60 * 1000,
    expiration: Number(env.SESSION_MAX_AGE_MS || 8 * 3600 * 1000),
  })
  // connect-session-sequelize never checks `expires` when reading a session (only a sweep every
  // checkExpirationInterval deletes expired rows): without this, a replayed cookie outlives
  // SESSION_MAX_AGE_MS on the server. Expiry slides with activity (the store's touch()).
  sessionStore.get = (sid, fn) => sessionStore.sessionModel.findOne({ where: { sid } }).then(async (row) => {
    if (!row) return null
    if (row.expires && row.expires <= new Date()) {
      await row.destroy()
      return null
    }
    return JSON.parse(row.data)
  }).then((sess) => fn(null, sess), (error) => fn(error))
  if (sequelize.getDialect() === 'sqlite') {
    // WAL: readers never wait for the writer, several processes can share the file, and a commit
    // does not fsync the whole journal.
    await sequelize.query('PRAGMA journal_mode=WAL')
    await sequelize.query('PRAGMA synchronous=NORMAL')
  }
  await sequelize.sync()
  await sessionStore.sync()
  await ensureBucket(env)

  const admin = defineAdmin({ env, Document, Gallery, uploadDir, sequelize })

  const users = accounts(env)
  const router = buildAuthenticatedRouter(admin, {
    cookieName: 'adminjs',
    cookiePassword: env.SESSION_SECRET || 'example-app-session-secret-change-me-please-0123456789',
    authenticate: async (email, password) => {
      const user = users.find((u) => u.email === email && u.password === password)
      return user ? { id: user.id, email: user.email, role: user.role, title: user.role } : null
    },
  }, null, {
    store: sessionStore,
    resave: false,
    saveUninitialized: false,
    // The cookie's lifetime restarts with every request, so a long upload keeps its session alive.
    rolling: true,
    // SameSite=Lax is buildAuthenticatedRouter's default.
    cookie: { httpOnly: true, maxAge: Number(env.SESSION_MAX_AGE_MS || 8 * 3600 * 1000) },
  }, undefined, {
    // Sessions are read from the database at most every SESSION_CACHE_MS (default 2 s) and their
    // expiry rewritten at most once a minute: chunk uploads send two requests per chunk.
    sessionCache: { readCacheMs: Number(env.SESSION_CACHE_MS ?? 2000) },
  })

  const app = express()
  app.get('/', (_req, res) => res.redirect('/admin'))
  if (usesPrebuiltBundles()) servePrebuiltBundles(app, env)
  app.use(admin.options.rootPath, router)
  await ensureComponentsBundle(admin, env)
  // Stops here with a ConfigurationError when the features cannot serve (a bucket whose CORS does
  // not let direct uploads through names what is missing and the JSON to apply).
  await resumableUploadsReady(admin)

  /** Stops every timer the app started (upload sweeps, session expiry) and closes the database. */
  async function close() {
    await closeResumableUploads(admin)
    sessionStore.stopExpiringSessions()
    await sequelize.close()
  }
  const storedIn = env.S3_BUCKET ? `the S3 bucket ${env.S3_BUCKET}` : uploadDir
  return { app, admin, sequelize, Document, Gallery, uploadDir, storedIn, users, close }
}
