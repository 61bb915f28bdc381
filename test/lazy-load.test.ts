// A relay loads only what its configuration needs: nodemailer with the first delivery, the keychain's
// native module when a secret is asked for, msal-node with a Microsoft token, prom-client with metrics.
// Each costs resident memory for the life of the process (docs/benchmarks.md, "Memory").
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { saveConfig } from '../src/config/store.js';
import { runRelay, type RunningRelay } from './support/cli.js';
import { RawSmtp } from './support/raw-smtp.js';
import { freePort, tempDataDir, waitFor } from './support/relay.js';
import { startUpstream, type Upstream } from './support/upstream.js';

const HOOK = path.resolve('test/support/loaded-modules.mjs');
let relay: RunningRelay | null = null;
let upstream: Upstream | null = null;
let dataDir = '';
afterAll(async () => {
  relay?.child.kill('SIGKILL');
  await upstream?.stop();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

const packages = (urls: string) => new Set([...urls.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)\/(\S*)/g)].map((m) => `${m[1]}/${m[2]}`));
const loads = (list: Set<string>, pkg: string) => [...list].some((u) => u.startsWith(`${pkg}/`));

it('an idle relay with a smarthost and no secret loads neither nodemailer\'s mailer, the keychain, msal nor prom-client; the first delivery loads nodemailer', async () => {
  upstream = await startUpstream({ starttls: 'disabled' });
  dataDir = await tempDataDir();
  const port = await freePort();
  await saveConfig(dataDir, { listen: { port }, smarthost: { host: '127.0.0.1', port: upstream.port, security: 'none' } });
  const list = path.join(dataDir, 'loaded.txt');
  relay = await runRelay(dataDir, { NODE_OPTIONS: `--import ${HOOK}`, LOADED_MODULES_FILE: list });
  const idle = packages(await fs.readFile(list, 'utf8'));
  expect(loads(idle, 'smtp-server'), 'the probe sees what the relay loads').toBe(true);
  // smtp-server itself uses nodemailer's shared helpers; the mailer and its SMTP pool are what delivery loads.
  expect([...idle].filter((u) => u.startsWith('nodemailer/') && !u.startsWith('nodemailer/dist/esm/shared/') && !/\/(punycode|fetch|errors|package-info)\b/.test(u))).toEqual([]);
  for (const pkg of ['@napi-rs/keyring', '@azure/msal-node', 'prom-client']) expect(loads(idle, pkg), pkg).toBe(false);

  const c = await RawSmtp.connect(port);
  await c.envelope('app@lazy.test', ['to@upstream.test']);
  expect(await c.command('DATA')).toMatch(/^354/);
  await c.write('Subject: lazy\r\n\r\nhello\r\n.\r\n');
  expect(await c.reply(10_000)).toMatch(/^250/);
  c.close();
  await waitFor(() => upstream!.messages.length === 1, 20_000, 'the message upstream');
  const after = packages(await fs.readFile(list, 'utf8'));
  expect([...after].some((u) => u.startsWith('nodemailer/') && u.includes('smtp-pool'))).toBe(true);
}, 60_000);
