// The S3 rows of `npm run bench`, all against one s3rver process (path-style, its fixed
// credentials S3RVER/S3RVER) started for the whole run:
// - ours-s3: the example app (started as `npm start` starts it) with S3_BUCKET, S3_ENDPOINT, ...,
//   uploaded with the same Resumable.js protocol client, then Save. ours-s3-quarter is the same on a
//   file a quarter the size, to show whether Save grows with the file; ours-s3-off the same with
//   CHECKSUMS=off and no chunk digests;
// - tus-s3: @tus/server + @tus/s3-store driven by tus-js-client (bench/tus-s3-server.mjs);
// - direct-s3: @aws-sdk/lib-storage's Upload straight to s3rver, from this process: that server's
//   ceiling.
// Every object is read back from s3rver and checked by sha256. Parts are the chunk size, so these
// rows run only at chunk sizes of at least 5 MiB (S3's smallest part).
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, existsSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import http from 'node:http'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import {
  S3Client, HeadBucketCommand, ListObjectsV2Command, GetObjectCommand, DeleteObjectsCommand, DeleteBucketCommand,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'

const MiB = 1024 * 1024
export const MIN_PART_SIZE = 5 * MiB
export const S3_PEERS = ['ours-s3', 'ours-s3-off', 'ours-s3-quarter', 'tus-s3', 'direct-s3']
const OURS = ['ours-s3', 'ours-s3-off', 'ours-s3-quarter']
/** S3's part-count limit: with MAX_UPLOAD_SIZE = chunk size x this, the app derives exactly the chunk size asked for. */
export const MAX_PARTS = 10_000
export const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }

/** A row that cannot run in this checkout (as opposed to one that failed): reported, then skipped. */
export class NotAvailable extends Error {
  constructor(message, peers) {
    super(message)
    this.peers = peers
  }
}

export function s3rverBin(projectRoot) {
  return join(projectRoot, 'node_modules', 's3rver', 'bin', 's3rver.js')
}

/** Starts s3rver over `dir` on a free loopback port, with one bucket for tus-s3 and direct-s3. */
export async function startS3rver({ projectRoot, dir, track }) {
  await mkdir(dir, { recursive: true })
  const bucket = 'bench-shared'
  const child = spawn(process.execPath, [s3rverBin(projectRoot), '-d', dir, '-a', '127.0.0.1', '-p', '0', '--silent', '--configure-bucket', bucket], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  track(child)
  const port = await new Promise((resolve, reject) => {
    let output = ''
    const onData = (data) => {
      output += data
      const m = /listening on [^:]+:(\d+)/.exec(output)
      if (m) resolve(Number(m[1]))
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code}) before listening: ${output}`)))
  })
  const endpoint = `http://127.0.0.1:${port}`
  const client = new S3Client({
    endpoint, region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS,
    // A CRC trailer makes the SDK send aws-chunked bodies, which s3rver stores framing and all.
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  })
  return {
    endpoint, bucket, client, pid: child.pid, dir,
    async stop() {
      client.destroy()
      if (child.exitCode !== null || child.signalCode !== null) return
      const gone = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGKILL')
      await gone
    },
  }
}

export async function objectSha256(client, bucket, key) {
  const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  const hash = createHash('sha256')
  for await (const piece of Body) hash.update(piece)
  return hash.digest('hex')
}

export async function listKeys(client, bucket) {
  const keys = []
  let token
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }))
    keys.push(...(page.Contents ?? []).map((o) => o.Key))
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token)
  return keys
}

/** Deletes every object of `bucket` (and the bucket itself when asked), so s3rver's disk holds one run at a time. */
export async function emptyBucket(client, bucket, { remove = false } = {}) {
  const exists = await bucketExists(client, bucket)
  if (!exists) return
  const keys = await listKeys(client, bucket)
  for (let i = 0; i < keys.length; i += 1000) {
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }))
  }
  if (remove) await client.send(new DeleteBucketCommand({ Bucket: bucket }))
}

async function bucketExists(client, bucket) {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }))
    return true
  } catch (error) {
    if (error?.$metadata?.httpStatusCode === 404 || error?.name === 'NotFound' || error?.name === 'NoSuchBucket') return false
    throw error
  }
}

/**
 * The S3 peers. `h` are run.mjs's helpers: startServer, usageSampler, cpuSeconds, logIn,
 * saveDocument, inClientProcess, npmStart (the example app's settings), makeSource, median, mbps,
 * here, oursServer.
 */
export function s3Peers(h) {
  const cpuOf = (pid) => h.cpuSeconds(pid)

  /** The quarter-size file for ours-s3-quarter, made once per run. */
  async function quarterOf(ctx) {
    if (!ctx.quarter) {
      const size = Math.max(MIN_PART_SIZE, Math.floor(ctx.size / 4 / MiB) * MiB)
      const source = join(ctx.work, 'source-quarter.bin')
      ctx.quarter = { ...ctx, size, source, sha: await h.makeSource(source, size) }
    }
    return ctx.quarter
  }

  async function runOursS3(ctx, chunkSize, { checksums = true } = {}) {
    const s3 = ctx.s3
    const dir = join(ctx.work, `ours-s3-${randomBytes(4).toString('hex')}`)
    await mkdir(dir, { recursive: true })
    // A bucket that does not exist yet: the app creates it, which also shows that it read S3_BUCKET.
    const bucket = `bench-ours-${randomBytes(4).toString('hex')}`
    const { BENCH_NODE_ARGS, ...settings } = h.npmStart
    let server
    try {
      server = await h.startServer('ours-s3', h.oursServer, {
        ...settings,
        S3_BUCKET: bucket, S3_ENDPOINT: s3.endpoint, S3_REGION: 'us-east-1', S3_FORCE_PATH_STYLE: 'true',
        AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
        UPLOAD_DIR: join(dir, 'uploads'),
        DATABASE_FILE: join(dir, 'db.sqlite'),
        CHUNK_SIZE: String(chunkSize),
        SWEEP_INTERVAL_MS: '0',
        MAX_UPLOAD_SIZE: String(chunkSize * MAX_PARTS),
        ...(checksums ? {} : { CHECKSUMS: 'off' }),
      }, BENCH_NODE_ARGS ? BENCH_NODE_ARGS.split(' ') : [])
    } catch (error) {
      await rm(dir, { recursive: true, force: true })
      const lines = String(error?.message ?? error).split('\n').filter((l) => /error|S3|bucket/i.test(l)).slice(-3)
      throw new NotAvailable(`the example app did not start with S3 settings (${lines.join(' / ') || String(error?.message).split('\n')[0]})`, OURS)
    }
    try {
      // It read S3_BUCKET if it created the bucket, or at least names it (a bucket created on first use).
      const named = server.log.some((l) => l.includes(bucket))
      if (!named && !(await bucketExists(s3.client, bucket))) {
        throw new NotAvailable(`the example app does not read S3_BUCKET yet (it started without creating bucket ${bucket} or naming it in its log)`, OURS)
      }
      const base = `http://127.0.0.1:${server.port}`
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
      const cookie = await h.logIn(agent, base)

      const sampler = await h.usageSampler(server.pid)
      const s3Cpu0 = await cpuOf(s3.pid)
      const upload = await h.inClientProcess('resumable', {
        target: `${base}/admin/api/resumable/Document/file`,
        file: ctx.source, size: ctx.size, chunkSize, cookie,
        identifier: `${ctx.size}-benchbin-${randomBytes(4).toString('hex')}`,
        chunkDigests: checksums,
        method: 'octet',
      })
      if (!upload.complete?.reference) throw new Error(`no completing answer; problems: ${JSON.stringify(upload.problems.slice(0, 5))}`)
      // Save is a server-side copy: the app's CPU during it, and s3rver's, tell whose work grows with the file.
      const saveApp0 = await cpuOf(server.pid)
      const saveS30 = await cpuOf(s3.pid)
      const save = await h.saveDocument(agent, base, cookie, upload.complete.reference)
      const saveAppCpuMs = ((await cpuOf(server.pid)) - saveApp0) * 1000
      const saveS3CpuMs = ((await cpuOf(s3.pid)) - saveS30) * 1000
      const usage = await sampler.stop(upload.clientCpuS)
      const s3CpuS = (await cpuOf(s3.pid)) - s3Cpu0
      agent.destroy()
      let saved = null
      try { saved = JSON.parse(save.text) } catch { /* reported below */ }
      const filePath = saved?.record?.params?.filePath
      if (save.status !== 200 || !filePath) throw new Error(`save failed: ${save.status} ${save.text.slice(0, 400)}`)
      // The record holds the key (or the key under the app's prefix).
      const keys = await listKeys(s3.client, bucket)
      const key = keys.find((k) => k === filePath) ?? keys.find((k) => k.endsWith(`/${filePath}`))
      if (!key) throw new Error(`the saved filePath ${filePath} is not in bucket ${bucket} (keys: ${keys.slice(0, 10).join(', ')})`)
      const sha = await objectSha256(s3.client, bucket, key)
      const posts = upload.posts.filter((p) => p.answer?.status === 'partial').map((p) => p.ms)
      return {
        ms: upload.ms, mbps: h.mbps(ctx.size, upload.ms), finalizeMs: upload.complete.ms, saveMs: save.ms, saveAppCpuMs, saveS3CpuMs,
        medianPostMs: h.median(posts), shaOk: sha === ctx.sha, usage, s3CpuS, problems: upload.problems,
        requests: upload.posts.length + upload.tests.length, fileSize: ctx.size, leftInBucket: keys.length,
        serverErrors: server.log.filter((l) => /error|warn/i.test(l) && !/default password/.test(l)).slice(0, 20),
      }
    } finally {
      await server.stop()
      await emptyBucket(s3.client, bucket, { remove: true }).catch(() => undefined)
      await rm(dir, { recursive: true, force: true })
    }
  }

  async function runTusS3(ctx, chunkSize) {
    const s3 = ctx.s3
    const server = await h.startServer('tus-s3', join(h.here, 'tus-s3-server.mjs'), {
      S3_ENDPOINT: s3.endpoint, S3_BUCKET: s3.bucket, PART_SIZE: String(chunkSize),
    })
    try {
      const sampler = await h.usageSampler(server.pid)
      const s3Cpu0 = await cpuOf(s3.pid)
      const { url, ms, patches, lastPatch, clientCpuS } = await h.inClientProcess('tus', {
        endpoint: `http://127.0.0.1:${server.port}/files`, file: ctx.source, size: ctx.size, chunkSize,
      })
      const usage = await sampler.stop(clientCpuS)
      const s3CpuS = (await cpuOf(s3.pid)) - s3Cpu0
      const sha = await objectSha256(s3.client, s3.bucket, url.split('/').pop())
      return {
        ms, mbps: h.mbps(ctx.size, ms), finalizeMs: lastPatch?.ms ?? NaN, saveMs: NaN, medianPostMs: h.median(patches.slice(0, -1)),
        shaOk: sha === ctx.sha, usage, s3CpuS, problems: [], requests: patches.length, fileSize: ctx.size,
      }
    } finally {
      await server.stop()
      await emptyBucket(s3.client, s3.bucket).catch(() => undefined)
    }
  }

  /** The same file through lib-storage's Upload, as many parts in flight as the Resumable.js client sends chunks. */
  async function runDirectS3(ctx, chunkSize) {
    const s3 = ctx.s3
    const key = `direct-${randomBytes(4).toString('hex')}.bin`
    try {
      const s3Cpu0 = await cpuOf(s3.pid)
      const client0 = process.cpuUsage()
      const started = performance.now()
      await new Upload({
        client: s3.client, params: { Bucket: s3.bucket, Key: key, Body: createReadStream(ctx.source, { highWaterMark: MiB }) },
        partSize: chunkSize, queueSize: 3, leavePartsOnError: false,
      }).done()
      const ms = performance.now() - started
      const client = process.cpuUsage(client0)
      const s3CpuS = (await cpuOf(s3.pid)) - s3Cpu0
      const sha = await objectSha256(s3.client, s3.bucket, key)
      return {
        ms, mbps: h.mbps(ctx.size, ms), finalizeMs: NaN, saveMs: NaN, shaOk: sha === ctx.sha, s3CpuS, problems: [], fileSize: ctx.size,
        usage: { baselineMiB: NaN, hwmMiB: NaN, growthMiB: NaN, serverCpuS: NaN, clientCpuS: (client.user + client.system) / 1e6 },
      }
    } finally {
      await emptyBucket(s3.client, s3.bucket).catch(() => undefined)
    }
  }

  return {
    'ours-s3': (ctx, cs) => runOursS3(ctx, cs),
    // The same with checksums off (no file SHA-256, no chunk digests): what integrity costs on S3.
    'ours-s3-off': (ctx, cs) => runOursS3(ctx, cs, { checksums: false }),
    'ours-s3-quarter': async (ctx, cs) => runOursS3(await quarterOf(ctx), cs),
    'tus-s3': (ctx, cs) => runTusS3(ctx, cs),
    'direct-s3': (ctx, cs) => runDirectS3(ctx, cs),
  }
}

/** The S3 table: ratios against tus-s3 and direct-s3, s3rver's CPU, and Save's cost at two file sizes. */
export function s3Summary(runs, { chunks, peers, unsupported = {}, median, fmt, sizeLabel }) {
  const summary = []
  const lines = []
  for (const chunkSize of chunks.filter((c) => c >= MIN_PART_SIZE)) {
    const of = (peer) => runs.filter((r) => r.peer === peer && r.chunkSize === chunkSize && !r.error)
    const med = (peer, key) => median(of(peer).map((r) => r[key]))
    const tusMbps = med('tus-s3', 'mbps')
    const directMbps = med('direct-s3', 'mbps')
    for (const peer of peers.filter((p) => S3_PEERS.includes(p))) {
      const ok = of(peer)
      const failed = runs.filter((r) => r.peer === peer && r.chunkSize === chunkSize && r.error)
      const usages = ok.map((r) => r.usage).filter(Boolean)
      const m = med(peer, 'mbps')
      // A different file size: its MB/s is shown, ratios against the full-size rows are not.
      const sameFile = peer !== 'ours-s3-quarter'
      summary.push({
        server: peer, chunkSize, fileSize: ok[0]?.fileSize, runs: ok.length, failed: failed.length, mbps: m,
        ratioTusS3: sameFile ? m / tusMbps : NaN, ratioDirectS3: sameFile ? m / directMbps : NaN,
        peakRssMiB: usages.length ? Math.max(...usages.map((x) => x.hwmMiB)) : NaN,
        baselineRssMiB: usages.length ? median(usages.map((x) => x.baselineMiB)) : NaN,
        growthRssMiB: usages.length ? Math.max(...usages.map((x) => x.growthMiB)) : NaN,
        serverCpuS: usages.length ? median(usages.map((x) => x.serverCpuS)) : NaN,
        s3CpuS: med(peer, 's3CpuS'),
        clientCpuS: usages.length ? median(usages.map((x) => x.clientCpuS)) : NaN,
        finalizeMs: med(peer, 'finalizeMs'), saveMs: med(peer, 'saveMs'),
        saveAppCpuMs: med(peer, 'saveAppCpuMs'), saveS3CpuMs: med(peer, 'saveS3CpuMs'), medianPostMs: med(peer, 'medianPostMs'),
        shaOk: ok.every((r) => r.shaOk !== false), problems: ok.reduce((n, r) => n + (r.problems?.length ?? 0), 0),
        error: failed[0]?.error?.split('\n')[0],
      })
    }
    const full = summary.find((s) => s.server === 'ours-s3' && s.chunkSize === chunkSize && s.runs)
    const quarter = summary.find((s) => s.server === 'ours-s3-quarter' && s.chunkSize === chunkSize && s.runs)
    if (full && quarter) {
      lines.push(`ours-s3 Save at ${sizeLabel(chunkSize)} parts: ${fmt(quarter.saveMs, 1)} ms for ${sizeLabel(quarter.fileSize)}, ${fmt(full.saveMs, 1)} ms for ${sizeLabel(full.fileSize)}`
        + `; app CPU during Save ${fmt(quarter.saveAppCpuMs)} / ${fmt(full.saveAppCpuMs)} ms, s3rver CPU ${fmt(quarter.saveS3CpuMs)} / ${fmt(full.saveS3CpuMs)} ms`)
    }
  }
  const head = ['server', 'part', 'file', 'MB/s (median)', 'x tus-s3', 'x direct-s3', 'peak RSS MiB', 'base RSS MiB', 'RSS growth MiB', 'server CPU s', 's3rver CPU s', 'client CPU s', 'finalize ms', 'save ms', 'save app CPU ms', 'save s3rver CPU ms', 'chunk req ms', 'sha256', 'runs']
  const rows = summary.map((s) => [
    s.server, sizeLabel(s.chunkSize), s.fileSize ? sizeLabel(s.fileSize) : '-', fmt(s.mbps, 1), fmt(s.ratioTusS3, 2), fmt(s.ratioDirectS3, 2),
    fmt(s.peakRssMiB), fmt(s.baselineRssMiB), fmt(s.growthRssMiB), fmt(s.serverCpuS, 2), fmt(s.s3CpuS, 2), fmt(s.clientCpuS, 2),
    fmt(s.finalizeMs, 1), fmt(s.saveMs, 1), fmt(s.saveAppCpuMs), fmt(s.saveS3CpuMs), fmt(s.medianPostMs, 1),
    !s.runs ? '-' : s.shaOk ? 'ok' : 'MISMATCH',
    unsupported[s.server] && !s.runs ? 'not available' : s.failed ? `${s.runs} (+${s.failed} failed)` : String(s.runs),
  ])
  const widths = head.map((x, i) => Math.max(x.length, ...rows.map((r) => r[i].length)))
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  const table = [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')
  return { summary, table, lines }
}

export function s3rverInstalled(projectRoot) {
  return existsSync(s3rverBin(projectRoot))
}
