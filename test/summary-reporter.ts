// Ends every run with one plain line, "N passed, N failed, N skipped", that CI reads without parsing
// Vitest's colours.
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const count = { passed: 0, failed: 0, skipped: 0, pending: 0 };
    for (const m of modules) {
      for (const t of m.children.allTests()) count[t.result().state]++;
      if (m.state() === 'failed' && [...m.children.allTests()].length === 0) count.failed++; // a file that did not load
    }
    const failed = count.failed + unhandledErrors.length;
    process.stdout.write(`\n${count.passed} passed, ${failed} failed, ${count.skipped} skipped\n`);
  }
}
