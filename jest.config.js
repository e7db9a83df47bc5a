/** Jest in ESM mode (AdminJS is ESM only); ts-jest transpiles without type-checking: `npm run typecheck` does that. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^adminjs-resumable$': '<rootDir>/src/index.ts', '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Run state and installs of scratch apps: never modules of this project.
  modulePathIgnorePatterns: ['<rootDir>/test/\\.tmp/', '<rootDir>/examples/.*/node_modules/', '<rootDir>/bench/\\.tmp/'],
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
  testTimeout: 120000,
  // Files run side by side: each has its own ports (listen(0)), temp folders (mkdtemp) and
  // PostgreSQL databases (freshPostgresDatabase); more workers than cores only slows them down.
  maxWorkers: 2,
}
