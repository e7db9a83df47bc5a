/**
 * The fast tier (`npm run test:fast`): unit and SQLite integration tests, without a browser,
 * PostgreSQL, S3 or a process beside the test. Which files that is, test/support/tiers.mjs reads
 * from what each file uses.
 */
import { fileURLToPath } from 'node:url'
import base from './jest.config.js'
import { fastTestFiles } from './test/support/tiers.mjs'

const root = fileURLToPath(new URL('.', import.meta.url))
const escape = (path) => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

// eslint-disable-next-line @typescript-eslint/no-unused-vars
const { testMatch, ...rest } = base

export default {
  ...rest,
  testRegex: fastTestFiles(root).map((file) => `^${escape(file)}$`),
}
