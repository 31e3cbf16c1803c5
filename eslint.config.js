// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.switchboard/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The core knows no transport, vendor or database: fronts and adapters depend on it, never
    // the other way round (DESIGN.md, Architecture).
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/store/**', '**/carriers/**', '**/agents/**', '**/cli/**', '**/slack/**', '**/mcp/**', '**/server/**'], message: 'src/core must not depend on adapters or fronts.' },
            { group: ['telnyx', 'twilio', 'retell-sdk', '@slack/*', '@modelcontextprotocol/*', '@electric-sql/*', 'postgres', '@supabase/*', 'pino'], message: 'src/core has no vendor or I/O imports.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', 'bin/**/*.js', 'tools/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly' } },
  },
);
