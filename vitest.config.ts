import { defineConfig } from 'vitest/config';

// Two cores: two forked workers. PGlite instances are ~300 MB each, so files stay serial inside a worker.
export default defineConfig({
  test: {
    // web/: component tests, each file opting into jsdom with `// @vitest-environment jsdom`.
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/src/**/*.test.{ts,tsx}'],
    exclude: ['**/*.case.test.ts', 'node_modules/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['test/global-setup.ts'],
    // .ci/run sets PORTCULLIS_TEST_REPORT to count results for its closing "N passed, N failed" line.
    reporters: process.env.PORTCULLIS_TEST_REPORT ? ['default', 'json'] : ['default'],
    ...(process.env.PORTCULLIS_TEST_REPORT ? { outputFile: { json: process.env.PORTCULLIS_TEST_REPORT } } : {}),
  },
});
