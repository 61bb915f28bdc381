// `npm run bench:queue`: the queue page with 100,000 messages queued (bench/queue-page.measure.ts),
// run by Vitest for its TypeScript and the browser tests' support code; not part of `npm test`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['bench/queue-page.measure.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 1_800_000,
    maxWorkers: 1,
    execArgv: ['--expose-gc'], // the index's memory cost and the RSS baseline are taken after a full GC
  },
});
