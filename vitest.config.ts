import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // database tests create their own databases; files run in parallel on 2 cores
    pool: 'forks',
    // the JSON file lets CI print a plain closing line
    reporters: ['default', ['json', { outputFile: 'tmp/vitest-results.json' }]],
  },
})
