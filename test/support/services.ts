import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * True under any truthy CI (CI=true, CI=1, CI=yes, as CI services set it): a service a test needs must
 * be there, or the test fails instead of skipping.
 */
export const REQUIRED = isTruthy(process.env.CI)

/** The fast tier (`npm run test:fast`) leaves PostgreSQL out on purpose: see test/support/tiers.mjs. */
export const FAST_TIER = process.env.ADMINJS_RESUMABLE_TIER === 'fast'

function isTruthy(value: string | undefined): boolean {
  return value !== undefined && !['', '0', 'false', 'no', 'off'].includes(value.trim().toLowerCase())
}

interface Services { postgres: { dir: string; port: number; url: string } | null; postgresMissing: string | null }

function state(): Services {
  const file = process.env.ADMINJS_RESUMABLE_SERVICES
  if (!file) return { postgres: null, postgresMissing: 'the jest global set-up did not run' }
  return JSON.parse(readFileSync(file, 'utf8'))
}

let counter = 0
/** A fresh database in the run's cluster, or null (with a loud warning) when PostgreSQL is missing. */
export function freshPostgresDatabase(): string | null {
  if (FAST_TIER) return null
  const { postgres, postgresMissing } = state()
  if (!postgres) {
    const message = `PostgreSQL is not available: ${postgresMissing}`
    if (REQUIRED) throw new Error(`${message} (CI=true requires it)`)
    console.warn(`\n!!! SKIPPING PostgreSQL tests: ${message}\n`)
    return null
  }
  const name = `t_${process.pid}_${Date.now()}_${counter++}`
  const bin = process.env.PG_BIN || '/usr/lib/postgresql/15/bin'
  const args = ['-h', '127.0.0.1', '-p', String(postgres.port), '-U', 'postgres', name]
  const result = spawnSync(join(bin, 'createdb'), args, { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`createdb failed: ${result.stderr}`)
  return `postgres://postgres@127.0.0.1:${postgres.port}/${name}`
}

/** Why the PostgreSQL half of a suite did not run, for its `test.todo` (REQUIRED has already thrown). */
export function postgresTodo(suite: string): string {
  return FAST_TIER
    ? `${suite} on PostgreSQL: left to the full suite (npm test)`
    : `${suite} on PostgreSQL did NOT run: ${state().postgresMissing ?? 'no PostgreSQL'} (CI=true makes this fail)`
}
