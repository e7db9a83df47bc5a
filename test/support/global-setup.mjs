// Starts one throwaway PostgreSQL 15 cluster for the whole jest run (initdb into a temp folder,
// a random port, fsync off) and records it in test/.tmp/services-<pid>.json (path in ADMINJS_RESUMABLE_SERVICES). Without PostgreSQL the run
// goes on and the PostgreSQL tests say so loudly; under CI=true they fail.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const BIN = process.env.PG_BIN || '/usr/lib/postgresql/15/bin'
const isRoot = process.getuid?.() === 0

export function asPostgres(cmd, args) {
  const result = isRoot
    ? spawnSync('runuser', ['-u', 'postgres', '--', join(BIN, cmd), ...args], { encoding: 'utf8' })
    : spawnSync(join(BIN, cmd), args, { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`${cmd} failed: ${result.stderr || result.stdout || result.error}`)
}

function missing() {
  if (!existsSync(join(BIN, 'initdb'))) return `PostgreSQL binaries not found in ${BIN}`
  if (isRoot && spawnSync('id', ['-u', 'postgres']).status !== 0) return 'no "postgres" system user to run the cluster as'
  return null
}

// Below Linux's ephemeral range (32768-60999 by default): a port there can be taken at any moment by
// an outgoing connection of a concurrent run. Another run may still hold the port drawn, so try a few.
function startOnFreePort(dir) {
  let lastError
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const port = 20000 + Math.floor(Math.random() * 10000)
    try {
      asPostgres('pg_ctl', ['-D', dir, '-l', join(dir, 'log'), '-o', `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off`, '-w', 'start'])
      return port
    } catch (error) {
      lastError = error
    }
  }
  throw lastError
}

export default async function globalSetup() {
  const stateDir = join(process.cwd(), 'test', '.tmp')
  mkdirSync(stateDir, { recursive: true })
  const fastTier = process.env.ADMINJS_RESUMABLE_TIER === 'fast'
  let state = { postgres: null, postgresMissing: fastTier ? 'the fast tier runs without PostgreSQL' : missing() }
  if (!state.postgresMissing) {
    try {
      const dir = mkdtempSync(join(tmpdir(), 'adminjs-resumable-pg-'))
      if (isRoot) execFileSync('chown', ['postgres:postgres', dir])
      asPostgres('initdb', ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'])
      const port = startOnFreePort(dir)
      state = { postgres: { dir, port, url: `postgres://postgres@127.0.0.1:${port}/postgres` }, postgresMissing: null }
    } catch (error) {
      state = { postgres: null, postgresMissing: String(error) }
    }
  }
  if (state.postgresMissing && !fastTier) console.warn(`\n!!! PostgreSQL tests cannot run: ${state.postgresMissing}\n`)
  // One file per run (concurrent runs must not read each other's cluster); workers inherit the env.
  const file = join(stateDir, `services-${process.pid}.json`)
  writeFileSync(file, JSON.stringify(state))
  process.env.ADMINJS_RESUMABLE_SERVICES = file
}
