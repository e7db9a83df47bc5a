#!/usr/bin/env node
// Runs the suites that go through a real Express + AdminJS stack (and the packed-app test) on
// every supported Node major and Express major: `npm run test:matrix`.
//
//   npm run test:matrix                          every cell (Node 20, 22, 24 × Express 4, 5)
//   MATRIX_NODE=22 MATRIX_EXPRESS=4 npm run test:matrix   one cell (comma lists work too)
//   MATRIX_TESTS="test/save.test.ts" npm run test:matrix  another subset
//
// Node: the npm registry's `node-<platform>-<arch>` package is the official binary with no install
// script; it is installed once per major into test/.tmp/matrix/node-<major>, and jest runs under it
// (the tests spawn their servers with process.execPath, so those run on it too).
//
// Express 4: it has to be the one `express` that everything resolves: the tests, src/ (through
// jest), @adminjs/express (a peer), and the child processes (example app, test fixtures), which
// are plain Node ESM and so ignore jest's moduleNameMapper and NODE_PATH. So the suite runs from a
// copy of the working tree (in the OS temp folder) whose node_modules is a hard-link copy of
// ours with express@4 in place of express (installed with its own dependencies nested inside it,
// so that express 5's dependencies at the top level are never picked up by it).
//
// The packed tarball is made once (`npm pack`, which builds) and handed to every cell's
// packed-app test through PACKED_TARBALL; each scratch app is installed once per Express major and
// kept in the OS temp folder between runs (see test/support/packed-app.ts).
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const work = path.join(repo, 'test', '.tmp', 'matrix')
const list = (value, fallback) => (value ? value.split(',').map((v) => v.trim()).filter(Boolean) : fallback)
const NODE_MAJORS = list(process.env.MATRIX_NODE, ['20', '22', '24'])
const EXPRESS_MAJORS = list(process.env.MATRIX_EXPRESS, ['5', '4'])
const TESTS = list(process.env.MATRIX_TESTS, [
  'test/packed-app.test.ts',
  'test/resumable-prefix.test.ts',
  'test/body-guard.test.ts',
  'test/chunk-route.test.ts',
  'test/save.test.ts',
  'test/download.test.ts',
])
// The oldest Express 4 that the peer range (and @adminjs/express's own) admits: the in-repo suites
// run on it, while the packed app gets the newest 4.x from the registry, so both ends are tested.
const EXPRESS_4 = process.env.MATRIX_EXPRESS_4_VERSION || '4.18.2'
// Never copied into the Express 4 tree: installs, run state, VCS data.
const NOT_COPIED = new Set(['node_modules', '.git', '.adminjs', 'coverage'])
const NOT_COPIED_PATHS = new Set(['test/.tmp', 'bench/.tmp', 'example-app/data', 'example-app/uploads'])

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options })
  if (result.error) throw result.error
  return result.status ?? 1
}

function must(command, args, options = {}) {
  const status = run(command, args, options)
  if (status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${status})`)
}

function npmInstall(prefix, specs, extra = []) {
  fs.mkdirSync(prefix, { recursive: true })
  const manifest = path.join(prefix, 'package.json')
  if (!fs.existsSync(manifest)) fs.writeFileSync(manifest, '{ "private": true }\n')
  must('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', ...extra, ...specs], { cwd: prefix })
}

/** The path of a node binary of this major: ours when it matches, else one from the registry. */
function nodeBinary(major) {
  if (process.versions.node.split('.')[0] === major) return process.execPath
  const prefix = path.join(work, `node-${major}`)
  const pkg = `node-${process.platform}-${process.arch}`
  const binary = path.join(prefix, 'node_modules', pkg, 'bin', 'node')
  if (!fs.existsSync(binary)) npmInstall(prefix, [`${pkg}@${major}`])
  return binary
}

/** A copy of the working tree resolving express@4 everywhere (see the header). */
function express4Tree() {
  // Outside the repo: a copy cannot live inside what it copies, and nothing in it may resolve a
  // module from the repo's node_modules by walking up.
  const tree = path.join(os.tmpdir(), `adminjs-resumable-express-4-${createHash('sha1').update(repo).digest('hex').slice(0, 8)}`)
  const express4 = path.join(work, 'express-4-package')
  const installed = path.join(express4, 'node_modules', 'express')
  const version = () => JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')).version
  if (!fs.existsSync(installed) || version() !== EXPRESS_4) {
    fs.rmSync(express4, { recursive: true, force: true })
    npmInstall(express4, [`express@${EXPRESS_4}`], ['--install-strategy=nested'])
  }

  fs.rmSync(tree, { recursive: true, force: true })
  fs.mkdirSync(tree, { recursive: true })
  const copied = (source) => {
    const relative = path.relative(repo, source).split(path.sep).join('/')
    const name = path.basename(source)
    return !NOT_COPIED.has(name) && !NOT_COPIED_PATHS.has(relative) && !name.endsWith('.tgz')
  }
  // Entry by entry: cpSync refuses to copy a folder into a folder inside it.
  for (const name of fs.readdirSync(repo)) {
    const source = path.join(repo, name)
    if (copied(source)) fs.cpSync(source, path.join(tree, name), { recursive: true, filter: copied, preserveTimestamps: true })
  }
  // Hard links: a second copy of node_modules would cost ~400 MB and a minute of disk writes.
  must('cp', ['-al', path.join(repo, 'node_modules'), path.join(tree, 'node_modules')])
  fs.rmSync(path.join(tree, 'node_modules', 'express'), { recursive: true, force: true })
  fs.cpSync(installed, path.join(tree, 'node_modules', 'express'), { recursive: true })
  return tree
}

function packTarball() {
  const out = path.join(work, 'pack')
  fs.rmSync(out, { recursive: true, force: true })
  fs.mkdirSync(out, { recursive: true })
  must('npm', ['pack', '--pack-destination', out, '--silent'], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] })
  const [file] = fs.readdirSync(out).filter((f) => f.endsWith('.tgz'))
  if (!file) throw new Error('npm pack wrote no tarball')
  return path.join(out, file)
}

fs.mkdirSync(work, { recursive: true })
const tarball = packTarball()
const trees = Object.fromEntries(EXPRESS_MAJORS.map((major) => [major, major === '5' ? repo : express4Tree()]))
for (const major of EXPRESS_MAJORS) if (!['4', '5'].includes(major)) throw new Error(`MATRIX_EXPRESS: 4 or 5, not ${major}`)

const results = []
for (const nodeMajor of NODE_MAJORS) {
  const node = nodeBinary(nodeMajor)
  for (const expressMajor of EXPRESS_MAJORS) {
    const cell = `Node ${nodeMajor} × Express ${expressMajor}`
    console.log(`\n=== ${cell} (${node}) ===\n`)
    const cwd = trees[expressMajor]
    const status = run(node, [path.join(cwd, 'node_modules', 'jest', 'bin', 'jest.js'), '--runInBand', ...TESTS], {
      cwd,
      env: {
        ...process.env,
        NODE_OPTIONS: '--experimental-vm-modules',
        PACKED_TARBALL: tarball,
        EXPECT_NODE_MAJOR: nodeMajor,
        EXPECT_EXPRESS_MAJOR: expressMajor,
      },
    })
    results.push({ cell, ok: status === 0 })
  }
}

console.log('\nTest matrix:')
for (const { cell, ok } of results) console.log(`  ${ok ? 'passed' : 'FAILED'}  ${cell}`)
const failed = results.filter((r) => !r.ok).length
console.log(`matrix: ${results.length - failed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
