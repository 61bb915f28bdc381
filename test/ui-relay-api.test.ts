// The RelayApi additions the settings window stands on: getLog (a bounded ring of recent lines in
// memory, older ones from the end of relay.log), validateConfig (the schema's messages without
// saving), onTestStep (each test-connection step as it ends), and the browser tests' HTTP bridge
// refusing what the IPC handlers refuse.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectionStep } from '../src/api/contract.js';
import { smarthostAccount } from '../src/secrets/smarthost-password.js';
import { parseConfig } from '../src/config/schema.js';
import { MailLog } from '../src/log/mail-log.js';
import { startHttpBridge } from './support/http-bridge.js';
import { openRelay, type OpenRelay } from './support/open-relay.js';
import { testCertificates } from './support/tls.js';
import { startUpstream } from './support/upstream.js';

let dir: string;
beforeEach(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relay-log-')); });
afterEach(async () => { await fs.rm(dir, { recursive: true, force: true }); });

const ids = (lines: string[]) => lines.map((l) => /n=(\d+)/.exec(l)?.[1]);
const range = (from: number, to: number) => Array.from({ length: from - to + 1 }, (_, i) => String(from - i));

describe('MailLog.recent (getLog)', () => {
  it('newest first, filtered regardless of case, at most `limit`', () => {
    const log = new MailLog({ dir: null });
    log.info('id=a to=<Dev@Contoso.com> status=sent n=1');
    log.warn('id=b to=<ops@contoso.com> status=deferred n=2');
    log.info('id=c to=<dev@contoso.com> status=sent n=3');
    return Promise.all([
      log.recent().then((l) => expect(ids(l)).toEqual(['3', '2', '1'])),
      log.recent({ contains: 'DEV@contoso' }).then((l) => expect(ids(l)).toEqual(['3', '1'])),
      log.recent({ limit: 2 }).then((l) => expect(ids(l)).toEqual(['3', '2'])),
      log.recent({ contains: 'status=deferred' }).then((l) => expect(l[0]).toMatch(/^\S+Z warning id=b /)),
    ]);
  });

  it('memory stays bounded; older lines come from relay.log, in order, without a gap or a repeat', async () => {
    const log = new MailLog({ dir });
    for (let i = 1; i <= 3000; i++) log.info(`id=x status=sent n=${i}`);
    // The ring itself (private): what "memory stays bounded" means here.
    expect((log as unknown as { kept: unknown[] }).kept.length).toBeLessThanOrEqual(1250);
    expect(ids(await log.recent({ limit: 2000 }))).toEqual(range(3000, 1001));
    log.close();
  });

  it('lines of an earlier run come after this run\'s', async () => {
    const before = new MailLog({ dir });
    for (let i = 1; i <= 5; i++) before.info(`earlier run n=${i}`);
    before.close();
    const log = new MailLog({ dir });
    expect(ids(await log.recent())).toEqual(range(5, 1)); // nothing written yet: all from the file
    log.info('this run n=6');
    expect(ids(await log.recent())).toEqual(range(6, 1));
    log.close();
  });

  it('reads only the end of a large relay.log, starting at a whole line', async () => {
    const line = (i: number) => `2026-11-22T09:00:00.000Z info ${'x'.repeat(200)} n=${i}\n`;
    await fs.writeFile(path.join(dir, 'relay.log'), Array.from({ length: 5000 }, (_, i) => line(i + 1)).join('')); // about 1.1 MB
    const log = new MailLog({ dir });
    const got = await log.recent({ limit: 2000 });
    expect(got.length).toBeGreaterThan(1000);
    expect(got.length).toBeLessThan(1300); // 256 KB of 226-byte lines
    expect(ids(got)).toEqual(range(5000, 5001 - got.length));
    expect(got.every((l) => l.startsWith('2026-11-22T09:00:00.000Z info '))).toBe(true);
    log.close();
  });

  it('after relay.log rotated, only the lines in memory (the old offsets point into another file)', async () => {
    const log = new MailLog({ dir, maxBytes: 2000, keep: 1 });
    for (let i = 1; i <= 1300; i++) log.info(`n=${i}`);
    const got = await log.recent({ limit: 2000 });
    expect(ids(got)).toEqual(range(1300, 1301 - got.length));
    expect(got.length).toBeGreaterThanOrEqual(1000);
    log.close();
  });
});

describe('RelayService: validateConfig, getLog, onTestStep', () => {
  let open: OpenRelay;
  beforeEach(async () => { open = await openRelay(); });
  afterEach(async () => { await open.close(); });

  it('validateConfig names each bad field with the schema\'s message and saves nothing', async () => {
    expect(await open.relay.validateConfig({ smarthost: { host: 'smtp.office365.com' } })).toEqual([]);
    expect(await open.relay.validateConfig({ smarthost: { port: 70000, security: 'tls' }, listen: { allowedClients: ['10.0.0.0/33'] } })).toEqual([
      { field: 'listen.allowedClients[0]', message: '"10.0.0.0/33" is not an address range; write it like 127.0.0.0/8, 192.168.1.10 or ::1/128' },
      { field: 'smarthost.port', message: 'must be at most 65535' },
    ]);
    expect(await open.relay.validateConfig({ smarthost: { auth: { method: 'password' } } }))
      .toEqual([{ field: 'smarthost.auth.username', message: 'is required when auth.method is "password"' }]);
    await expect(fs.access(path.join(open.dataDir, 'config.json'))).rejects.toThrow();
  });

  it('getLog has what the relay logged, newest first', async () => {
    await open.relay.setConfig({ smarthost: { host: 'smtp.office365.com' } });
    await open.relay.sendTest('dev@contoso.com');
    const lines = await open.relay.getLog();
    expect(lines[0]).toMatch(/ info id=(\w+) from=<smtp-relay@relay\.test> to=<dev@contoso\.com> message-id=<\1@relay\.test> size=\d+ nrcpt=1 client=send-test status=queued$/);
    expect(lines[1]).toMatch(/ info configuration changed$/);
    expect(await open.relay.getLog({ contains: 'configuration' })).toEqual([lines[1]]);
  });

  it('onTestStep reports each step as it ends, before testConnection answers, the same steps it returns', async () => {
    const up = await startUpstream({ auth: { user: 'jts@contoso.com', pass: 'pw-1234' } });
    try {
      const config = { smarthost: { host: 'localhost', port: up.port, caFile: (await testCertificates()).caCertPath, auth: { method: 'password' as const, username: 'jts@contoso.com' } } };
      await open.relay.setConfig(config);
      await open.credentials.set(smarthostAccount(parseConfig(config)), 'pw-1234');
      const seen: (ConnectionStep | 'result')[] = [];
      const off = open.relay.onTestStep((s) => seen.push(s));
      const result = await open.relay.testConnection();
      seen.push('result');
      off();
      expect(result.ok).toBe(true);
      expect(seen).toEqual([...result.steps, 'result']);
      expect(result.steps.map((s) => s.step)).toEqual(['dns', 'tcp', 'banner', 'ehlo', 'starttls', 'ehlo', 'auth']);
      await open.relay.testConnection();
      expect(seen).toHaveLength(result.steps.length + 1); // unsubscribed
    } finally {
      await up.stop();
    }
  });
});

describe('the browser tests\' HTTP bridge', () => {
  it('checks every call like the IPC handlers: bad arguments and another origin never reach the relay', async () => {
    const open = await openRelay();
    const bridge = await startHttpBridge(open.relay, path.join(import.meta.dirname, '..', 'out', 'renderer'));
    const post = (method: string, args: unknown, origin = bridge.url) => fetch(`${bridge.url}/relay/relay:${method}`, {
      method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify(args),
    });
    try {
      expect(await (await post('sendTest', ['not an address'])).json())
        .toEqual({ ok: false, error: { kind: 'invalid', message: 'sendTest: 0 is not an e-mail address' } });
      expect(await (await post('getLog', [{ limit: 1_000_000 }])).json()).toMatchObject({ ok: false, error: { kind: 'invalid' } });
      expect((await post('setPassword', ['hunter2'], 'http://evil.example')).status).toBe(403);
      expect((await post('noSuchMethod', [])).status).toBe(404);
      expect(await (await post('getPasswordStatus', [])).json()).toEqual({ ok: true, value: { account: null, stored: false, source: null } });
      expect(bridge.calls).toEqual(['getPasswordStatus']);
      expect(await open.relay.getLog({ contains: 'queued' })).toEqual([]);
    } finally {
      await bridge.close();
      await open.close();
    }
  });
});
