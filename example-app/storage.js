// Where the example app keeps files: an S3-compatible bucket when S3_BUCKET is set, else the local
// disk. Credentials come from the standard AWS chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
// shared config files, instance or task roles); the upload state lives in the app's database.
import { join } from 'node:path'

function s3ClientSettings(env) {
  return {
    // An S3-compatible server (MinIO, Ceph) ignores the region, but the SDK insists on one.
    region: env.S3_REGION || env.AWS_REGION || (env.S3_ENDPOINT ? 'us-east-1' : undefined),
    endpoint: env.S3_ENDPOINT || undefined,
    forcePathStyle: env.S3_FORCE_PATH_STYLE ? env.S3_FORCE_PATH_STYLE === 'true' : undefined,
    // createApp may be given an environment of its own (tests); the SDK's chain reads process.env.
    credentials: env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY && env !== process.env
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN }
      : undefined,
  }
}

/** The feature's `storage` option for this environment. */
export function storageOption(env, uploadDir, sequelize) {
  if (!env.S3_BUCKET) return { local: { directory: uploadDir, stagingDirectory: join(uploadDir, '.staging') } }
  const client = s3ClientSettings(env)
  return {
    s3: {
      bucket: env.S3_BUCKET,
      ...Object.fromEntries(Object.entries(client).filter(([, value]) => value !== undefined)),
      prefix: env.S3_PREFIX || undefined,
      sequelize,
      download: env.S3_DOWNLOAD === 'stream' ? 'stream' : 'presigned',
      // S3_UPLOAD=direct: browsers PUT each chunk to the bucket under a URL the app signed.
      upload: env.S3_UPLOAD === 'direct' ? 'direct' : 'through-app',
      // The origin the bucket's CORS must allow, checked at start-up (unset: any origin a rule names).
      origin: env.ADMIN_ORIGIN || undefined,
    },
  }
}

/**
 * The origins the bucket's CORS rule names for direct uploads: ADMIN_ORIGIN, or this app on this
 * machine (any port when PORT=0, which picks a free one only when listening).
 */
export function adminOrigins(env) {
  if (env.ADMIN_ORIGIN) return [env.ADMIN_ORIGIN]
  const port = env.PORT === '0' ? '*' : env.PORT || '3000'
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`]
}

/** The CORS rule direct uploads need: the admin's pages PUT parts and read their ETag (README, "Uploads straight to the bucket"). */
export function directCorsRule(env) {
  return {
    AllowedOrigins: adminOrigins(env),
    AllowedMethods: ['PUT'],
    AllowedHeaders: ['content-type', 'x-amz-checksum-sha256'],
    ExposeHeaders: ['ETag'],
    MaxAgeSeconds: 3600,
  }
}

/**
 * Creates the bucket when it is missing (a fresh MinIO or s3rver), with S3_UPLOAD=direct with the
 * CORS rule direct uploads need; an existing bucket is left as it is (the app checks its CORS at
 * start-up and says what to apply).
 */
export async function ensureBucket(env) {
  if (!env.S3_BUCKET) return
  const { S3Client, HeadBucketCommand, CreateBucketCommand, PutBucketCorsCommand } = await import('@aws-sdk/client-s3')
  const client = new S3Client(Object.fromEntries(Object.entries(s3ClientSettings(env)).filter(([, value]) => value !== undefined)))
  try {
    await client.send(new HeadBucketCommand({ Bucket: env.S3_BUCKET }))
  } catch (error) {
    if (error?.$metadata?.httpStatusCode !== 404) throw error
    try {
      await client.send(new CreateBucketCommand({ Bucket: env.S3_BUCKET }))
    } catch (createError) {
      // Another host of the same app created it meanwhile (and sets its CORS).
      if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(createError?.name)) throw createError
      return
    }
    if (env.S3_UPLOAD === 'direct') {
      await client.send(new PutBucketCorsCommand({ Bucket: env.S3_BUCKET, CORSConfiguration: { CORSRules: [directCorsRule(env)] } }))
    }
  } finally {
    client.destroy()
  }
}
