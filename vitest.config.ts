import { defineConfig } from 'vitest/config';

export default defineConfig({
  // one graphql module for test code and libraries (vite would otherwise load index.mjs beside Node's index.js)
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
