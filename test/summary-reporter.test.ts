// The closing line of a test run, read by CI: Vitest runs deliberately failing files in a subprocess
// and the line must count what failed and agree with the exit code.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const VITEST = path.join(path.dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const REPORTER = path.join(import.meta.dirname, 'summary-reporter.ts');
const dirs: string[] = [];

/** Runs Vitest on the given files (globals on: the temp folder cannot import vitest) and returns its summary line and exit code. */
function runVitest(files: Record<string, string>, globalSetup?: string): Promise<{ code: number; summary: string | undefined; output: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'summary-reporter-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  if (globalSetup) writeFileSync(path.join(dir, 'global-setup.mjs'), globalSetup);
  const config = { test: { globals: true, include: ['*.test.js'], reporters: [REPORTER], globalSetup: globalSetup ? ['./global-setup.mjs'] : [] } };
  writeFileSync(path.join(dir, 'vitest.config.mjs'), `export default ${JSON.stringify(config)};\n`);
  return new Promise((resolve) => {
    execFile(process.execPath, [VITEST, 'run', '--root', dir, '--config', path.join(dir, 'vitest.config.mjs')], { cwd: dir, timeout: 60_000 }, (err, stdout, stderr) => {
      const output = stdout + stderr;
      resolve({ code: err ? Number(err.code) : 0, summary: /^\d+ passed, \d+ failed, \d+ skipped.*$/m.exec(stdout)?.[0], output });
    });
  });
}

afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

describe('the summary line', () => {
  it('counts a file whose setup or import fails as failed, and the tests it kept from running as not run', async () => {
    const r = await runVitest({
      'setup-fails.test.js': "beforeAll(() => { throw new Error('setup broke'); });\nit('a', () => {});\nit('b', () => {});\nit.skip('c', () => {});\n",
      'import-fails.test.js': "throw new Error('import broke');\n",
      'suite-fails.test.js': "it('ok', () => {});\nit.skip('skipped on purpose', () => {});\ndescribe('d', () => { beforeAll(() => { throw new Error('x'); }); it('in d', () => {}); });\n",
    });
    expect(r.code, r.output).toBe(1);
    expect(r.summary, r.output).toBe('1 passed, 3 failed, 2 skipped, 3 not run');
  });

  it('says 0 failed when Vitest exits 0', async () => {
    const r = await runVitest({ 'fine.test.js': "it('ok', () => {});\nit.todo('later');\n" });
    expect(r.code, r.output).toBe(0);
    expect(r.summary, r.output).toBe('1 passed, 0 failed, 1 skipped');
  });

  it('counts a failing test and a global setup that throws', async () => {
    const failing = await runVitest({ 'fails.test.js': "it('no', () => { throw new Error('wrong'); });\n" });
    expect([failing.code, failing.summary], failing.output).toEqual([1, '0 passed, 1 failed, 0 skipped']);
    const setup = await runVitest({ 'fine.test.js': "it('ok', () => {});\n" }, "export default () => { throw new Error('build failed'); };\n");
    expect(setup.code, setup.output).toBe(1);
    expect(setup.summary, setup.output).toMatch(/^0 passed, [1-9]\d* failed/);
  });
});
