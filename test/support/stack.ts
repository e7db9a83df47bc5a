/**
 * The tests' app: Express + AdminJS + Sequelize with a `Document` resource (one file) and a
 * `Gallery` resource (`multiple` images), built in-process from the package's public entry. It reads
 * the same knobs as the example app (CHUNK_SIZE, MAX_UPLOAD_SIZE, ALLOWED_TYPES, S3_BUCKET, …) from
 * the `env` it is given, so a test says what it changes; the example app stays a demo of its own.
 */
import { mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import * as AdminJSSequelize from '@adminjs/sequelize'
import AdminJS, { ComponentLoader, type ActionContext, type AdminJSOptions } from 'adminjs'
import connectSessionSequelize from 'connect-session-sequelize'
import express from 'express'
import session from 'express-session'
import { DataTypes, Sequelize, type Model, type ModelStatic } from 'sequelize'
import {
  buildAuthenticatedRouter, closeResumableUploads, resumableUploadFeature, resumableUploadsReady, withResumableLocales,
  type ResumableUploadFeatureOptions,
} from 'adminjs-resumable'

AdminJS.registerAdapter({ Resource: AdminJSSequelize.Resource, Database: AdminJSSequelize.Database })

export type Env = Record<string, string | undefined>
type Feature = Partial<ResumableUploadFeatureOptions>

export const ACCOUNTS = [
  { id: 'admin', email: 'admin@example.com', role: 'admin', password: 'password' },
  { id: 'editor', email: 'editor@example.com', role: 'editor', password: 'password' },
  { id: 'viewer', email: 'viewer@example.com', role: 'viewer', password: 'password' },
]

const canWrite = ({ currentAdmin }: ActionContext): boolean => !!currentAdmin && currentAdmin.role !== 'viewer'
const writeOnly = { isAccessible: canWrite }

export function connect(env: Env): Sequelize {
  if (env.DATABASE_URL) return new Sequelize(env.DATABASE_URL, { logging: false })
  return new Sequelize({ dialect: 'sqlite', storage: env.DATABASE_FILE ?? ':memory:', logging: false })
}

export function defineDocument(sequelize: Sequelize): ModelStatic<Model> {
  return sequelize.define('Document', {
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
    title: { type: DataTypes.STRING, allowNull: false },
    filePath: { type: DataTypes.TEXT },
    fileName: { type: DataTypes.TEXT },
    fileSize: { type: DataTypes.BIGINT },
    fileMimeType: { type: DataTypes.STRING },
    fileChecksum: { type: DataTypes.STRING(64) },
    fileMetadata: { type: DataTypes.TEXT },
    fileRelativePath: { type: DataTypes.TEXT },
  }, { tableName: 'Documents' })
}

export function defineGallery(sequelize: Sequelize): ModelStatic<Model> {
  return sequelize.define('Gallery', {
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
    title: { type: DataTypes.STRING, allowNull: false },
    imagePaths: { type: DataTypes.JSON },
    imageNames: { type: DataTypes.JSON },
    imageSizes: { type: DataTypes.JSON },
    imageMimeTypes: { type: DataTypes.JSON },
    imageRelativePaths: { type: DataTypes.JSON },
    imageChecksums: { type: DataTypes.JSON },
    imageMetadata: { type: DataTypes.JSON },
  }, { tableName: 'Galleries' })
}

/** The EICAR anti-virus test file starts with this; the hook below refuses it like a scanner would. */
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'

const scanUpload: NonNullable<ResumableUploadFeatureOptions['onUploadComplete']> = async ({ read }) => {
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

function s3Client(env: Env): Record<string, unknown> {
  const settings = {
    region: env.S3_REGION || env.AWS_REGION || (env.S3_ENDPOINT ? 'us-east-1' : undefined),
    endpoint: env.S3_ENDPOINT || undefined,
    forcePathStyle: env.S3_FORCE_PATH_STYLE ? env.S3_FORCE_PATH_STYLE === 'true' : undefined,
    credentials: env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }
      : undefined,
  }
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined))
}

function storage(env: Env, uploadDir: string, sequelize?: Sequelize): ResumableUploadFeatureOptions['storage'] {
  if (!env.S3_BUCKET) return { local: { directory: uploadDir, stagingDirectory: join(uploadDir, '.staging') } }
  return {
    s3: {
      bucket: env.S3_BUCKET,
      ...s3Client(env),
      prefix: env.S3_PREFIX || undefined,
      sequelize,
      download: env.S3_DOWNLOAD === 'stream' ? 'stream' : 'presigned',
      upload: env.S3_UPLOAD === 'direct' ? 'direct' : 'through-app',
      origin: env.ADMIN_ORIGIN || undefined,
      partUrlSeconds: env.PART_URL_SECONDS ? Number(env.PART_URL_SECONDS) : undefined,
    },
  } as ResumableUploadFeatureOptions['storage']
}

/** The CORS rule direct uploads need (README, "Uploads straight to the bucket"), for ADMIN_ORIGIN or any origin. */
export function directCorsRule(env: Env) {
  return {
    AllowedOrigins: [env.ADMIN_ORIGIN || '*'],
    AllowedMethods: ['PUT'],
    AllowedHeaders: ['content-type', 'x-amz-checksum-sha256'],
    ExposeHeaders: ['ETag'],
    MaxAgeSeconds: 3600,
  }
}

/** Creates the bucket unless it exists; with S3_UPLOAD=direct it gets the CORS rule too, unless S3_CORS=none. */
async function ensureBucket(env: Env): Promise<void> {
  if (!env.S3_BUCKET) return
  const { S3Client, CreateBucketCommand, PutBucketCorsCommand } = await import('@aws-sdk/client-s3')
  const client = new S3Client(s3Client(env))
  try {
    await client.send(new CreateBucketCommand({ Bucket: env.S3_BUCKET }))
    if (env.S3_UPLOAD === 'direct' && env.S3_CORS !== 'none') {
      await client.send(new PutBucketCorsCommand({ Bucket: env.S3_BUCKET, CORSConfiguration: { CORSRules: [directCorsRule(env)] } }))
    }
  } catch (error) {
    if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((error as Error).name)) throw error
  } finally {
    client.destroy()
  }
}

export interface AdminParts {
  env: Env
  Document: ModelStatic<Model>
  uploadDir: string
  Gallery?: ModelStatic<Model>
  sequelize?: Sequelize
  /** Merged into the Document feature's options (hooks). */
  feature?: Feature
}

/** The AdminJS instance: Document (one file) and, when given, Gallery (`multiple` images). */
export function defineAdmin({ env, Document, uploadDir, Gallery, sequelize, feature = {} }: AdminParts): AdminJS {
  const componentLoader = new ComponentLoader()
  const common = {
    componentLoader,
    storage: storage(env, uploadDir, sequelize),
    limits: {
      uploadsPerAdmin: Number(env.UPLOADS_PER_ADMIN || 20),
      bytesPerAdmin: env.UPLOAD_BYTES_PER_ADMIN ? Number(env.UPLOAD_BYTES_PER_ADMIN) : undefined,
    },
    chunkSize: Number(env.CHUNK_SIZE || 5 * 1024 * 1024),
    simultaneousUploads: 3,
    expiry: {
      ttlMs: Number(env.UPLOAD_TTL_MS || 24 * 3600 * 1000),
      sweepIntervalMs: Number(env.SWEEP_INTERVAL_MS ?? 3600 * 1000),
    },
  }
  const maxSize = Number(env.MAX_UPLOAD_SIZE || 50 * 1024 ** 3)
  const gallery = Gallery ? [{
    resource: Gallery,
    options: {
      id: 'Gallery',
      listProperties: ['id', 'title', 'images', 'updatedAt'],
      showProperties: ['id', 'title', 'images', 'createdAt', 'updatedAt'],
      editProperties: ['title', 'images'],
      actions: { new: writeOnly, edit: writeOnly, delete: writeOnly, bulkDelete: writeOnly },
    },
    features: [resumableUploadFeature({
      ...common,
      multiple: true,
      properties: {
        key: 'imagePaths', file: 'images', filename: 'imageNames', size: 'imageSizes',
        mimeType: 'imageMimeTypes', relativePath: 'imageRelativePaths',
        ...(env.CHECKSUMS !== 'off' ? { checksum: 'imageChecksums' } : {}),
        metadata: 'imageMetadata',
      },
      uploadPath: (record, filename) => `galleries/${record.id()}/${filename}`,
      validation: { maxSize, mimeTypes: ['image/*'] },
    })],
  }] : []
  return new AdminJS({
    rootPath: '/admin',
    componentLoader,
    branding: { companyName: 'adminjs-resumable tests', withMadeWithLove: false },
    locale: withResumableLocales({
      language: env.ADMIN_LANGUAGE || 'en',
      availableLanguages: ['en', 'de'],
      // As docs/dashboard.md shows: the language picked in the menu survives full page loads.
      localeDetection: true,
      detection: { order: ['localStorage'], caches: ['localStorage'], lookupLocalStorage: 'adminjs-language' },
    }) as AdminJSOptions['locale'],
    resources: [{
      resource: Document,
      options: {
        id: 'Document',
        listProperties: ['id', 'title', 'file', 'updatedAt'],
        showProperties: ['id', 'title', 'file', 'createdAt', 'updatedAt'],
        editProperties: ['title', 'file'],
        actions: { new: writeOnly, edit: writeOnly, delete: writeOnly, bulkDelete: writeOnly },
      },
      features: [resumableUploadFeature({
        ...common,
        properties: {
          key: 'filePath', file: 'file', filename: 'fileName', size: 'fileSize', mimeType: 'fileMimeType',
          ...(env.CHECKSUMS !== 'off' ? { checksum: 'fileChecksum' } : {}),
          metadata: 'fileMetadata',
          relativePath: 'fileRelativePath',
        },
        onUploadComplete: scanUpload,
        uploadPath: (record, filename) => `documents/${record.id()}/${filename}`,
        validation: {
          maxSize,
          mimeTypes: env.ALLOWED_TYPES ? env.ALLOWED_TYPES.split(',') : undefined,
          extensions: env.ALLOWED_EXTENSIONS ? env.ALLOWED_EXTENSIONS.split(',') : undefined,
        },
        ...feature,
      })],
    }, ...gallery],
  })
}

export interface Stack {
  app: express.Express
  admin: AdminJS
  sequelize: Sequelize
  Document: ModelStatic<Model>
  Gallery: ModelStatic<Model>
  uploadDir: string
  close(): Promise<void>
}

/** The whole app on `env` (a SQLite file or DATABASE_URL, UPLOAD_DIR, the knobs above). */
export async function createStack(env: Env, options: { feature?: Feature } = {}): Promise<Stack> {
  const sequelize = connect(env)
  const Document = defineDocument(sequelize)
  const Gallery = defineGallery(sequelize)
  const uploadDir = resolve(env.UPLOAD_DIR!)
  if (env.DATABASE_FILE) mkdirSync(dirname(env.DATABASE_FILE), { recursive: true })

  const SequelizeStore = connectSessionSequelize(session.Store)
  const maxAge = Number(env.SESSION_MAX_AGE_MS || 8 * 3600 * 1000)
  const sessionStore = new SequelizeStore({ db: sequelize, tableName: 'Sessions', checkExpirationInterval: 15 * 60 * 1000, expiration: maxAge })
  // connect-session-sequelize never checks `expires` on reading: a replayed cookie would outlive
  // SESSION_MAX_AGE_MS, which the session tests check.
  type Row = { expires?: Date; data: string; destroy(): Promise<void> }
  const sessionModel = (sessionStore as unknown as { sessionModel: { findOne(q: unknown): Promise<Row | null> } }).sessionModel
  sessionStore.get = (sid, fn) => {
    sessionModel.findOne({ where: { sid } }).then(async (row) => {
      if (!row) return null
      if (row.expires && row.expires <= new Date()) {
        await row.destroy()
        return null
      }
      return JSON.parse(row.data)
    }).then((sess) => fn(null, sess), (error) => fn(error))
  }
  if (sequelize.getDialect() === 'sqlite') {
    await sequelize.query('PRAGMA journal_mode=WAL')
    await sequelize.query('PRAGMA synchronous=NORMAL')
  }
  await sequelize.sync()
  await sessionStore.sync()
  await ensureBucket(env)

  const admin = defineAdmin({ env, Document, uploadDir, Gallery, sequelize, feature: options.feature })
  const router = buildAuthenticatedRouter(admin, {
    cookieName: 'adminjs',
    cookiePassword: 'test-session-secret-0123456789-0123456789',
    authenticate: async (email: string, password: string) => {
      const user = ACCOUNTS.find((u) => u.email === email && u.password === password)
      return user ? { id: user.id, email: user.email, role: user.role, title: user.role } : null
    },
  }, null, {
    store: sessionStore,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, maxAge },
  } as unknown as session.SessionOptions, undefined, {
    sessionCache: { readCacheMs: Number(env.SESSION_CACHE_MS ?? 2000) },
  })

  const app = express()
  app.get('/', (_req, res) => res.redirect('/admin'))
  // Only a browser asks for it: API-only tests never start the bundler (a child process).
  app.get('/admin/frontend/assets/components.bundle.js', (_req, _res, next) => {
    import('./components-bundle.js').then(({ componentsBundle }) => componentsBundle()).then(() => next(), next)
  })
  app.use(admin.options.rootPath, router)
  try {
    await resumableUploadsReady(admin)
  } catch (error) {
    await closeResumableUploads(admin)
    ;(sessionStore as unknown as { stopExpiringSessions(): void }).stopExpiringSessions()
    await sequelize.close()
    throw error
  }

  async function close(): Promise<void> {
    await closeResumableUploads(admin)
    ;(sessionStore as unknown as { stopExpiringSessions(): void }).stopExpiringSessions()
    await sequelize.close()
  }
  return { app, admin, sequelize, Document, Gallery, uploadDir, close }
}
