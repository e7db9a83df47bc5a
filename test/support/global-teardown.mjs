import { readFileSync, rmSync } from 'node:fs'
import { asPostgres } from './global-setup.mjs'

export default async function globalTeardown() {
  let state
  try {
    state = JSON.parse(readFileSync(process.env.ADMINJS_RESUMABLE_SERVICES, 'utf8'))
    rmSync(process.env.ADMINJS_RESUMABLE_SERVICES, { force: true })
  } catch {
    return
  }
  if (!state.postgres?.dir) return
  try {
    asPostgres('pg_ctl', ['-D', state.postgres.dir, '-m', 'immediate', '-w', 'stop'])
  } finally {
    rmSync(state.postgres.dir, { recursive: true, force: true })
  }
}
