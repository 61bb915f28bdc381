import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // renderer/tests: the settings window's component tests (happy-dom), type-checked with the page (tsconfig.renderer.json).
    include: ['test/**/*.test.ts', 'renderer/**/*.test.tsx'],
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests bind loopback ports and spawn relays; two cores, so keep it modest.
    maxWorkers: 2,
  },
});
