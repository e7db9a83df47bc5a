import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { asPostgres } from './global-setup.mjs'

export default async function globalTeardown() {
  let state
  try {
    state = JSON.parse(readFileSync(join(process.cwd(), 'test', '.tmp', 'services.json'), 'utf8'))
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
