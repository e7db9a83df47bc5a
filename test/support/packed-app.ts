/**
 * The package as a team gets it: `npm pack`, then the tarball and the peers installed from the
 * registry into a scratch app OUTSIDE the repo (its own package.json and node_modules in the OS temp
 * folder, so nothing resolves from the repo's node_modules), running examples/your-app/app.js, the
 * file the README shows.
 *
 * The scratch app of each Express major is kept between runs (installing the peers and building
 * sqlite3 takes a minute or two): every run copies app.js afresh and installs the current tarball,
 * under a name carrying its hash so that npm cannot keep an older build of the same version.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { REPO } from './processes.js'

export const EXAMPLE_DIR = join(REPO, 'examples', 'your-app')

/** The environment for npm in a child: none of the npm_* variables of an `npm test` around us. */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)))
}

function npm(args: string[], cwd: string): string {
  const result = spawnSync('npm', args, { cwd, env: { ...npmEnv(), NODE_OPTIONS: '' }, encoding: 'utf8' })
  if (result.status !== 0) {
    throw new Error(`npm ${args.join(' ')} failed in ${cwd} (${result.status ?? result.error}):\n${result.stdout}\n${result.stderr}`)
  }
  return result.stdout
}

/**
 * PACKED_TARBALL (made once by `npm run test:matrix`) or a fresh `npm pack` of the build `npm test`
 * made. Without `prepare`: rebuilding would delete lib/ under the other jest worker's processes.
 */
export function packTarball(into: string): string {
  if (process.env.PACKED_TARBALL) return process.env.PACKED_TARBALL
  if (!existsSync(join(REPO, 'lib', 'index.js'))) throw new Error('lib/ is missing: run `npm run build` first (npm test does)')
  mkdirSync(into, { recursive: true })
  const out = npm(['pack', '--json', '--ignore-scripts', '--pack-destination', into], REPO)
  const [{ filename }] = JSON.parse(out.slice(out.indexOf('['))) as { filename: string }[]
  return join(into, basename(filename))
}

/** Every path in the tarball. */
export function tarballFiles(tarball: string): string[] {
  const result = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`tar -tzf ${tarball}: ${result.stderr}`)
  return result.stdout.split('\n').filter(Boolean)
}

/**
 * The scratch app for this Express major, with the tarball installed. A first install for one major
 * starts from a copy of the other's node_modules when there is one (same sqlite3 build).
 */
export function installScratchApp(tarball: string, expressMajor: string): string {
  const dir = join(tmpdir(), `adminjs-resumable-packed-app-express-${expressMajor}`)
  mkdirSync(dir, { recursive: true })
  const hash = createHash('sha256').update(readFileSync(tarball)).digest('hex').slice(0, 12)
  for (const old of readdirSync(dir).filter((f) => f.endsWith('.tgz'))) rmSync(join(dir, old))
  const local = `adminjs-resumable-${hash}.tgz`
  cpSync(tarball, join(dir, local))
  const manifest = JSON.parse(readFileSync(join(EXAMPLE_DIR, 'package.json'), 'utf8'))
  manifest.dependencies['adminjs-resumable'] = `file:./${local}`
  manifest.dependencies.express = `^${expressMajor}.0.0`
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  cpSync(join(EXAMPLE_DIR, 'app.js'), join(dir, 'app.js'))
  if (!existsSync(join(dir, 'node_modules'))) {
    const other = join(tmpdir(), `adminjs-resumable-packed-app-express-${expressMajor === '4' ? '5' : '4'}`, 'node_modules')
    if (existsSync(join(other, 'sqlite3'))) cpSync(other, join(dir, 'node_modules'), { recursive: true, verbatimSymlinks: true })
  }
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline'], dir)
  return dir
}

export interface AppProcess {
  url: string
  child: ChildProcess
  output(): string
  alive(): boolean
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  stop(): Promise<void>
}

/** Runs `node app.js` in the scratch app with `env` on top of a clean environment. */
export function runApp(dir: string, env: Record<string, string>): AppProcess {
  const base = Object.fromEntries(Object.entries(npmEnv()).filter(([k]) => !k.startsWith('JEST') && k !== 'NODE_ENV'))
  const child = spawn(process.execPath, ['app.js'], {
    cwd: dir,
    env: { ...base, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  let gone = false
  child.stdout!.on('data', (d) => { output += String(d) })
  child.stderr!.on('data', (d) => { output += String(d) })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.once('exit', (code, signal) => {
      gone = true
      done({ code, signal })
    })
  })
  return {
    url: '',
    child,
    output: () => output,
    alive: () => !gone,
    exited,
    async stop() {
      if (!gone) child.kill('SIGKILL')
      await exited
    },
  }
}

/** Resolves with the app's URL once it printed it; rejects if it exits first. */
export async function listening(app: AppProcess, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the app did not print its URL within ${timeoutMs} ms:\n${app.output()}`)), timeoutMs)
    const check = (): void => {
      const match = /AdminJS is at (http:\/\/[^\s/]+)/.exec(app.output())
      if (match) {
        clearTimeout(timer)
        app.child.stdout!.off('data', check)
        resolve(match[1]!)
      }
    }
    app.child.stdout!.on('data', check)
    check()
    void app.exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`the app exited (${code ?? signal}) before listening:\n${app.output()}`))
    })
  })
}

/** A fresh folder in the OS temp folder for one run's database, uploads and TMPDIR. */
export function freshRunDir(): string {
  return mkdtempSync(join(tmpdir(), 'adminjs-resumable-packed-run-'))
}
