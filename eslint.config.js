// ESLint over everything the project ships or runs: the server (src), the browser components, the
// tests, the example app and the bench. Type-aware rules are left out on purpose: they would need a
// TypeScript program for the plain-JavaScript example app and bench, and `npm run typecheck` already
// type-checks src, components and test.
import js from '@eslint/js'
import globals from 'globals'
import reactHooks from 'eslint-plugin-react-hooks'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['lib/', 'components/dist/', '.adminjs/', 'coverage/', 'node_modules/', 'test/.tmp/', 'bench/.tmp/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_name` marks a parameter or binding kept for its position or shape, not for use.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['components/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
  {
    files: ['bench/**/*.{js,mjs}'],
    // The bench's page scripts run in the browser too.
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
)
