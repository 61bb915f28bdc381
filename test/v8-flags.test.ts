// The relay's V8 settings come with the product, not from NODE_OPTIONS: `smtp-relay run` started the
// way the README says (node on the bin, no NODE_OPTIONS) runs with them, as the same process.
import fs from 'node:fs/promises';
import { afterAll, expect, it } from 'vitest';
import { saveConfig } from '../src/config/store.js';
import { RELAY_V8_FLAGS, relayArgv } from '../src/host/v8-flags.js';
import { runRelay, type RunningRelay } from './support/cli.js';
import { freePort, tempDataDir } from './support/relay.js';

let relay: RunningRelay | null = null;
let dataDir = '';
afterAll(async () => {
  relay?.child.kill('SIGKILL');
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

it('adds the missing flags before the script, keeps Node\'s own, and adds nothing when all are there', () => {
  expect(relayArgv('/usr/bin/node', ['--inspect'], ['/usr/bin/node', '/app/bin/smtp-relay.js', 'run', '--data-dir', '/d']))
    .toEqual(['/usr/bin/node', ...RELAY_V8_FLAGS, '--inspect', '/app/bin/smtp-relay.js', 'run', '--data-dir', '/d']);
  expect(relayArgv('/usr/bin/node', [RELAY_V8_FLAGS[0] as string], ['/usr/bin/node', '/b.js', 'run']))
    .toEqual(['/usr/bin/node', ...RELAY_V8_FLAGS.slice(1), RELAY_V8_FLAGS[0], '/b.js', 'run']);
  expect(relayArgv('/usr/bin/node', [...RELAY_V8_FLAGS], ['/usr/bin/node', '/b.js', 'run'])).toBeNull();
});

it.skipIf(process.platform === 'win32')('`smtp-relay run` without NODE_OPTIONS runs with the relay\'s V8 flags, in the process that was started', async () => {
  dataDir = await tempDataDir();
  await saveConfig(dataDir, { listen: { port: await freePort() } });
  relay = await runRelay(dataDir, { NODE_OPTIONS: '' });
  const cmdline = (await fs.readFile(`/proc/${relay.child.pid}/cmdline`, 'utf8')).split('\0');
  expect(cmdline.slice(1, 1 + RELAY_V8_FLAGS.length)).toEqual(RELAY_V8_FLAGS);
  expect(cmdline).toContain('run');
  // Same process: a service manager's signal reaches the relay, which stops gracefully.
  relay.child.kill('SIGTERM');
  expect(await relay.exited).toBe(0);
  relay = null;
}, 60_000);
