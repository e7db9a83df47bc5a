/**
 * `npm run test:matrix` (scripts/test-matrix.mjs) runs suites under several Node binaries and from
 * a tree where `express` is Express 4. A cell that silently ran on the defaults would prove nothing:
 * the suites call this to check that they run on what the cell names.
 */
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { expect } from '@jest/globals'
import { REPO } from './processes.js'

/** The major version of the `express` that this tree resolves (the app's and @adminjs/express's). */
export function expressMajor(): string {
  const require = createRequire(join(REPO, 'package.json'))
  return String(require('express/package.json').version).split('.')[0]!
}

export function expectMatrixCell(): void {
  const node = process.env.EXPECT_NODE_MAJOR
  const express = process.env.EXPECT_EXPRESS_MAJOR
  if (node) expect(process.versions.node.split('.')[0]).toBe(node)
  if (express) expect(expressMajor()).toBe(express)
  const adminjsExpress = createRequire(join(REPO, 'node_modules', '@adminjs', 'express', 'package.json'))
  // @adminjs/express must resolve the same express, or the cell would mix two majors.
  expect(String(adminjsExpress('express/package.json').version).split('.')[0]).toBe(expressMajor())
}
