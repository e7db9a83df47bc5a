// @tus/server + @tus/s3-store on loopback, as a peer. Env: S3_ENDPOINT, S3_BUCKET, PART_SIZE,
// PORT (0), HOST; s3rver's fixed credentials.
//
// s3rver has no ListParts (GET ?uploadId answers 405), and @tus/s3-store asks for it before every
// PATCH to learn the offset. This process answers it from the parts it uploaded itself: a real S3
// would hold the same list, and one process sees every part of its own uploads. Everything else
// (CreateMultipartUpload, UploadPart, CompleteMultipartUpload, the .info and .part objects) goes to
// s3rver as @tus/s3-store sends it.
import http from 'node:http'
import { stat } from 'node:fs/promises'
import { Server } from '@tus/server'
import { S3Store } from '@tus/s3-store'

const { S3_ENDPOINT: endpoint, S3_BUCKET: bucket } = process.env
const partSize = Number(process.env.PART_SIZE)
if (!endpoint || !bucket || !partSize) throw new Error('S3_ENDPOINT, S3_BUCKET and PART_SIZE are required')

const store = new S3Store({
  partSize,
  s3ClientConfig: {
    bucket, endpoint, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    // A CRC trailer makes the SDK send aws-chunked bodies, which s3rver stores framing and all.
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  },
})

/** upload id -> part number -> { PartNumber, ETag, Size } */
const parts = new Map()
const uploadPart = store.uploadPart.bind(store)
store.uploadPart = async (metadata, body, partNumber) => {
  const etag = await uploadPart(metadata, body, partNumber)
  const size = Buffer.isBuffer(body) ? body.length : (await stat(body.path)).size
  const held = parts.get(metadata['upload-id']) ?? new Map()
  held.set(partNumber, { PartNumber: partNumber, ETag: etag, Size: size })
  parts.set(metadata['upload-id'], held)
  return etag
}
store.client.listParts = async ({ UploadId }) => ({
  Parts: [...(parts.get(UploadId)?.values() ?? [])].sort((a, b) => a.PartNumber - b.PartNumber),
  IsTruncated: false,
})

const tus = new Server({ path: '/files', datastore: store })
const server = http.createServer((req, res) => tus.handle(req, res))
server.requestTimeout = 0
server.keepAliveTimeout = 65_000
server.listen(Number(process.env.PORT || 0), process.env.HOST || '127.0.0.1', () => {
  console.log(`LISTENING ${server.address().port}`)
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0))
