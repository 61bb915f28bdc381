// Ends every run with one plain line, "N passed, N failed, N skipped", that CI reads without parsing
// Vitest's colours. A file or suite that fails outside a test (an import that throws, a beforeAll that
// throws) counts as one failure, and the tests it kept from running are "not run", not "skipped":
// the line says "0 failed" exactly when Vitest exits 0.
import type { Reporter, SerializedError, TestModule, TestRunEndReason } from 'vitest/node';

function summarize(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>, reason: TestRunEndReason): string {
  const count = { passed: 0, failed: unhandledErrors.length, skipped: 0, notRun: 0 };
  for (const m of modules) {
    for (const holder of [m, ...m.children.allSuites()]) if (holder.errors().length > 0) count.failed++;
    for (const t of m.children.allTests()) {
      const state = t.result().state;
      if (state === 'passed') count.passed++;
      else if (state === 'failed') count.failed++;
      else if (state === 'skipped' && (t.options.mode === 'skip' || t.options.mode === 'todo')) count.skipped++;
      else count.notRun++; // skipped because its file or suite failed, or pending when the run stopped
    }
  }
  // Whatever else made Vitest fail (a global setup that threw, an interrupted run) still shows as a failure.
  if (reason !== 'passed' && count.failed === 0) count.failed = 1;
  return `${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped${count.notRun ? `, ${count.notRun} not run` : ''}`;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>, reason: TestRunEndReason): void {
    process.stdout.write(`\n${summarize(modules, unhandledErrors, reason)}\n`);
  }
}
