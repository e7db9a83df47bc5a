// The tables of the browser rows: the edit component against bare Resumable.js (issue #19), and
// direct-to-bucket against through-the-app (issue #20).
import { BROWSER_PEERS, BROWSER_S3_PEERS } from './rows.mjs'

const GiB = 1024 ** 3
const MiB = 1024 ** 2

function table(head, rows) {
  const widths = head.map((x, i) => Math.max(x.length, ...rows.map((r) => r[i].length)))
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')
}

export function browserSummary(runs, { chunks, peers, unsupported = {}, median, fmt, sizeLabel }) {
  const summary = []
  for (const chunkSize of chunks) {
    const of = (peer) => runs.filter((r) => r.peer === peer && r.chunkSize === chunkSize && !r.error)
    const med = (peer, key) => median(of(peer).map((r) => r[key]))
    for (const peer of peers.filter((p) => BROWSER_PEERS.includes(p))) {
      const ok = of(peer)
      const failed = runs.filter((r) => r.peer === peer && r.chunkSize === chunkSize && r.error)
      if (!ok.length && !failed.length && !unsupported[peer]) continue
      const perGiB = (key) => median(ok.map((r) => (r[key] / r.fileSize) * GiB))
      const all = (key) => ok.flatMap((r) => r[key] ?? [])
      summary.push({
        server: peer, chunkSize, runs: ok.length, failed: failed.length,
        mbps: med(peer, 'mbps'), ms: med(peer, 'ms'), saveMs: med(peer, 'saveMs'),
        browserCpuS: med(peer, 'browserCpuS'), serverCpuS: med(peer, 'serverCpuS'), s3CpuS: med(peer, 's3CpuS'),
        serverCpuPerGiB: perGiB('serverCpuS'), appReadPerGiB: perGiB('appReadBytes'), appWritePerGiB: perGiB('appWriteBytes'),
        peakRssMiB: Math.max(...ok.map((r) => r.usage?.hwmMiB ?? NaN)),
        medianPostMs: med(peer, 'medianPostMs'), postsInFlight: med(peer, 'postsInFlight'),
        requests: med(peer, 'requests'), withDigest: med(peer, 'withDigest'), toBucket: med(peer, 'toBucket'),
        readMs: median(all('readMs')), readTotalMs: median(ok.map((r) => (r.readMs ?? []).reduce((a, b) => a + b, 0))),
        digestMs: median(all('digestMs')), digestTotalMs: median(ok.map((r) => (r.digestMs ?? []).reduce((a, b) => a + b, 0))),
        shaOk: ok.every((r) => r.shaOk), checksumOk: ok.every((r) => r.checksumOk !== false),
        error: failed[0]?.error?.split('\n')[0],
      })
    }
  }
  const find = (server, chunkSize) => summary.find((s) => s.server === server && s.chunkSize === chunkSize && s.runs)
  const runsCell = (s) => (!s.runs && unsupported[s.server] ? 'not available' : s.failed ? `${s.runs} (+${s.failed} failed)` : String(s.runs))
  const sha = (s) => (!s.runs ? '-' : s.shaOk && s.checksumOk ? 'ok' : 'MISMATCH')

  const local = summary.filter((s) => !BROWSER_S3_PEERS.includes(s.server))
  const localTable = table(
    ['client', 'chunk', 'MB/s (median)', 'x bare', 'pick→reference ms', 'save ms', 'browser CPU s', 'server CPU s', 'peak RSS MiB', 'POSTs in flight', 'chunk POST ms', 'requests', 'with digest', 'hash read ms', 'digest ms', 'sha256', 'runs'],
    local.map((s) => {
      const bare = find('chromium-bare', s.chunkSize)
      const profiled = Number.isFinite(s.readMs) && s.server === 'chromium-edit'
      return [
        s.server, sizeLabel(s.chunkSize), fmt(s.mbps, 1), fmt(s.mbps / bare?.mbps, 2), fmt(s.ms), fmt(s.saveMs), fmt(s.browserCpuS, 2), fmt(s.serverCpuS, 2),
        fmt(s.peakRssMiB), fmt(s.postsInFlight, 2), fmt(s.medianPostMs, 1), fmt(s.requests), fmt(s.withDigest),
        profiled ? `${fmt(s.readMs, 1)} (Σ ${fmt(s.readTotalMs)})` : '-', profiled ? `${fmt(s.digestMs, 1)} (Σ ${fmt(s.digestTotalMs)})` : '-',
        sha(s), runsCell(s),
      ]
    }),
  )
  const s3 = summary.filter((s) => BROWSER_S3_PEERS.includes(s.server))
  const s3Table = table(
    ['client', 'part', 'MB/s (median)', 'x app route', 'browser CPU s', 'app CPU s', 'app CPU s/GiB', 'app CPU % of app route', 'app read MiB/GiB', 'app write MiB/GiB', 's3rver CPU s', 'requests to bucket', 'save ms', 'sha256', 'runs'],
    s3.map((s) => {
      const app = find('chromium-s3-app', s.chunkSize)
      return [
        s.server, sizeLabel(s.chunkSize), fmt(s.mbps, 1), fmt(s.mbps / app?.mbps, 2), fmt(s.browserCpuS, 2), fmt(s.serverCpuS, 2), fmt(s.serverCpuPerGiB, 2),
        fmt((100 * s.serverCpuPerGiB) / app?.serverCpuPerGiB, 1), fmt(s.appReadPerGiB / MiB, 1), fmt(s.appWritePerGiB / MiB, 1), fmt(s.s3CpuS, 2),
        fmt(s.toBucket), fmt(s.saveMs), sha(s), runsCell(s),
      ]
    }),
  )
  const lines = summary.filter((s) => s.error).map((s) => `${s.server} ${sizeLabel(s.chunkSize)}: ${s.error}`)
  return { summary, localTable: local.length ? localTable : null, s3Table: s3.length ? s3Table : null, lines }
}
