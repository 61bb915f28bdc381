// The `smtp-relay` command as an admin uses it: real processes, the real keychain (gnome-keyring on a
// private bus), a scripted upstream smarthost that requires the password.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYCHAIN_SERVICE } from '../src/secrets/credential-store.js';
import { cli, runRelay, type RunningRelay } from './support/cli.js';
import { startTestKeyring, type TestKeyring } from './support/keyring.js';
import { filesContaining, freePort, tempDataDir, waitFor } from './support/relay.js';
import { startUpstream, type Upstream } from './support/upstream.js';

const SECRET = 'CLI-kept-S3cret-9876';
let keyring: TestKeyring;
let upstream: Upstream;
let dataDir: string;
let port: number;
let env: NodeJS.ProcessEnv;
let relay: RunningRelay | null = null;

const run = (...args: string[]) => cli([...args, '--data-dir', dataDir], { env });

beforeAll(async () => {
  keyring = await startTestKeyring();
  upstream = await startUpstream({ starttls: 'disabled', auth: { user: 'jts@contoso.com', pass: SECRET } });
  dataDir = await tempDataDir();
  port = await freePort();
  env = { DBUS_SESSION_BUS_ADDRESS: keyring.busAddress, SMTP_RELAY_SMARTHOST_PASSWORD: '' };
});

afterAll(async () => {
  relay?.child.kill('SIGKILL');
  await upstream?.stop();
  await keyring?.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('smtp-relay', () => {
  it('config set validates each value and names the field on error; config get reads it back', async () => {
    for (const [key, value] of [
      ['listen.port', String(port)], ['smarthost.host', '127.0.0.1'], ['smarthost.port', String(upstream.port)],
      ['smarthost.security', 'none'], ['smarthost.auth.username', 'jts@contoso.com'], ['smarthost.auth.method', 'password'],
      ['delivery.retrySchedule', '1s'],
    ]) {
      const r = await run('config', 'set', key as string, value as string);
      expect(r, r.stderr).toMatchObject({ code: 0 });
    }
    expect((await run('config', 'get', 'smarthost.port')).stdout.trim()).toBe(String(upstream.port));
    const before = await fs.readFile(path.join(dataDir, 'config.json'), 'utf8');
    const bad = await run('config', 'set', 'smarthost.security', 'ssl');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/smarthost\.security: must be one of "starttls", "tls", "opportunistic", "none"/);
    expect(await fs.readFile(path.join(dataDir, 'config.json'), 'utf8')).toBe(before);
  });

  it('status works with no relay running', async () => {
    const r = await run('status', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ state: 'stopped', queued: 0, deferred: 0, failed: 0, oldestQueuedSeconds: null, lastError: null });
  });

  it('password set reads stdin into the OS keychain, never into a file', async () => {
    const r = await cli(['password', 'set', '--data-dir', dataDir], { env, input: `${SECRET}\n` });
    expect(r, r.stderr).toMatchObject({ code: 0 });
    expect(await keyring.lookup(KEYCHAIN_SERVICE, 'jts@contoso.com@127.0.0.1')).toBe(SECRET);
  });

  it('run: listens, delivers a send-test through the queue with the keychain password, and stops on SIGTERM', async () => {
    relay = await runRelay(dataDir, env);
    expect(relay.address).toBe(`127.0.0.1:${port}`);
    const second = await run('run');
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another relay \(pid \d+\) is already using this data directory/);

    const r = await run('send-test', '--to', 'admin@contoso.com', '--wait', '20');
    expect(r, r.stderr).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(/queued as ([0-9a-z]{16})\nwaiting up to \d+ s for the delivery…\n\1: delivered/);
    expect(upstream.messages.at(-1)?.authUser).toBe('jts@contoso.com');
    expect(upstream.messages.at(-1)?.raw.toString()).toMatch(/Subject: SMTP Relay Tray test message/);
    await waitFor(() => /status=sent/.test(relay!.output()), 5000, 'the delivery log line');
    expect(relay.output()).toMatch(/id=[0-9a-z]{16} to=<admin@contoso\.com> relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+ delay=[\d.]+ delays=[\d.]+ attempts=1 status=sent \(250 /);

    const s = JSON.parse((await run('status', '--json')).stdout);
    expect(s).toMatchObject({ state: 'running', queued: 0, failed: 0, lastError: null });
  });

  it('queue list / show / retry / delete drive the running relay', async () => {
    await upstream.stop(); // deliveries now defer
    const r = await run('send-test', '--to', 'later@contoso.com', '--wait', '10');
    expect(r.code).toBe(1);
    const id = /queued as ([0-9a-z]{16})/.exec(r.stdout)?.[1] as string;
    // Deferred with the reply, or (caught between the refusal and the state's update) not delivered yet.
    expect(r.stdout).toMatch(new RegExp(`${id}: (deferred \\(.*(ECONNREFUSED|refused).*\\); next try (in \\d+ s|now) [^\n]*|not delivered yet)\n`, 'i'));
    // Not just "queued": what holds it, until when, and what to do.
    expect(r.stdout).toMatch(/^Smarthost unreachable: 127\.0\.0\.1\[127\.0\.0\.1\]:\d+ has not taken a connection for \d+ s: .*(ECONNREFUSED|refused).*; 1 message waiting\.$/im);
    expect(r.stdout).toMatch(/^to fix: Retry now: smtp-relay queue retry --all$/m);

    const list = JSON.parse((await run('queue', 'list', '--json')).stdout);
    expect(list.items.map((m: { id: string }) => m.id)).toEqual([id]);
    expect(list.items[0]).toMatchObject({ status: 'deferred', recipients: [{ address: 'later@contoso.com', status: 'deferred' }] });
    expect(list.items[0].attempts).toBeGreaterThanOrEqual(1); // the 1 s schedule may have tried again by now
    const status = await run('status');
    expect(status.stdout).toMatch(/^health: +Smarthost unreachable: /m);
    expect(status.stdout).toMatch(/^queued: +1 \(1 deferred\)/m);
    const show = await run('queue', 'show', id);
    expect(show.stdout).toMatch(/Subject: SMTP Relay Tray test message/);
    expect(show.stdout).toMatch(/<later@contoso\.com> deferred, \d+ attempts?: /);
    expect((await run('queue', 'retry', id)).stdout).toMatch(`${id} will be tried now`);
    expect((await run('status', '--json')).stdout).toMatch(/"queued":1/);

    const missing = await run('queue', 'show', '0000000000000000');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no message 0000000000000000 in the queue/);
    const nonsense = await run('queue', 'show', 'nosuchid');
    expect(nonsense).toMatchObject({ code: 1, stderr: 'smtp-relay: no message nosuchid in the queue (a queue id is 16 lower-case letters and digits, as `smtp-relay queue list` shows)\n' });

    await waitFor(async () => (await run('queue', 'delete', id)).code === 0, 10_000, 'delete (not while it is being delivered)');
    // The queue is empty again: the old error is not news any more.
    expect(JSON.parse((await run('status', '--json')).stdout)).toMatchObject({ queued: 0, lastError: null });
  });

  it('stops gracefully on SIGTERM, and no secret is anywhere in the data directory or its logs', async () => {
    relay!.child.kill('SIGTERM');
    expect(await relay!.exited).toBe(0);
    expect(relay!.output()).not.toContain(SECRET);
    expect(await filesContaining(dataDir, [SECRET])).toEqual([]);
    expect(await fs.readFile(path.join(dataDir, 'logs', 'relay.log'), 'utf8')).toMatch(/status=sent/);
  });

  it('queue retry --all with no relay running makes waiting mail due at the next start', async () => {
    const r = await run('send-test', '--to', 'offline@contoso.com');
    expect(r.stdout).toMatch(/the relay is not running/);
    const id = /queued as ([0-9a-z]{16})/.exec(r.stdout)?.[1] as string;
    // Give it a far-off due time as a deferral would, then ask for everything now.
    const spoolQ = path.join(dataDir, 'spool', 'q');
    // Earlier tests may have left an empty bucket behind: the one holding this message.
    const [bucket, name] = (await fs.readdir(spoolQ, { recursive: true })).find((f) => f.includes(id))?.split(path.sep) ?? [];
    const far = Date.now() + 86_400_000;
    const state = JSON.parse(await fs.readFile(path.join(spoolQ, bucket as string, name as string), 'utf8'));
    state.rcpts[0].next = far;
    const { queueName, bucketOf } = await import('../src/spool/names.js');
    await fs.mkdir(path.join(spoolQ, bucketOf(far)), { recursive: true });
    await fs.writeFile(path.join(spoolQ, bucketOf(far), queueName({ due: far, id, gen: 1, attempts: 0 })), JSON.stringify(state));
    await fs.rm(path.join(spoolQ, bucket as string, name as string));

    const retry = await run('queue', 'retry', '--all');
    expect(retry.stdout).toMatch(/^1 message will be tried now\n\(the relay is not running/);
    const list = JSON.parse((await run('queue', 'list', '--json')).stdout);
    expect(list.items[0].nextAttempt).toBeLessThanOrEqual(Date.now());
    expect((await run('queue', 'delete', id)).code).toBe(0);
  });

  it('config set refuses a host with a port, and says what a list looks like', async () => {
    const host = await run('config', 'set', 'smarthost.host', 'smtp.office365.com:587');
    expect(host.code).toBe(1);
    expect(host.stderr).toContain('smarthost.host: must be the server name alone, without ":587": put smtp.office365.com here and 587 in the port');
    const list = await run('config', 'set', 'listen.allowedClients', '10.0.0.0/8');
    expect(list.code).toBe(1);
    expect(list.stderr).toContain('listen.allowedClients: must be a list, e.g. ["10.0.0.0/8", "127.0.0.0/8"], not "10.0.0.0/8"');
    expect(list.stderr).not.toContain('a array');
  });

  it('usage errors exit with 2', async () => {
    expect((await run('queue', 'retry')).code).toBe(2);
    expect((await cli(['no-such-command'])).code).toBe(2);
  });
});
