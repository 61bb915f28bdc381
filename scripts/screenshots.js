// npm run screenshots: refreshes the pictures in docs/ by running the browser tests that take them,
// with SCREENSHOT_DIR pointing at docs/ (a plain test run writes them to a temporary folder instead).
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.join(import.meta.dirname, '..');
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const run = spawnSync(process.execPath, [vitest, 'run', 'test/browser-settings.test.ts', 'test/browser-health.test.ts', 'test/browser-words.test.ts'], {
  cwd: root, stdio: 'inherit', env: { ...process.env, SCREENSHOT_DIR: path.join(root, 'docs') },
});
process.exit(run.status ?? 1);
