// `smtp-relay check` as OP5/Nagios run it: the real command against a real relay process in each
// state a monitoring system must tell apart, and the plugin's verdicts on their own.
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import type { RelayStatus } from '../src/api/contract.js';
import { controlAddress } from '../src/control/address.js';
import { ensureControlKey } from '../src/control/key.js';
import type { ConfigInput } from '../src/config/schema.js';
import { saveConfig } from '../src/config/store.js';
import { evaluateCheck } from '../src/monitor/check.js';
import { stoppedStatus } from '../src/health/model.js';
import { cli, runRelay, type RunningRelay } from './support/cli.js';
import { freePort, tempDataDir, waitFor } from './support/relay.js';
import { startUpstream, type Upstream } from './support/upstream.js';

const PLUGIN_LINE = /^SMTP RELAY (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+ \| queued=\d+;\d*;\d*;0 deferred=\d+;;;0 failed=\d+;;;0 oldest=\d+s;\d+;\d+;0\n$/;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function relayDir(smarthost: ConfigInput['smarthost']): Promise<{ dataDir: string; port: number }> {
  const dataDir = await tempDataDir();
  cleanups.push(() => fs.rm(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  await saveConfig(dataDir, { listen: { port }, delivery: { retrySchedule: '1h' }, smarthost });
  return { dataDir, port };
}

async function start(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<RunningRelay> {
  const relay = await runRelay(dataDir, env);
  cleanups.push(async () => { relay.child.kill('SIGTERM'); await relay.exited; });
  return relay;
}

async function upstream(opts: Parameters<typeof startUpstream>[0]): Promise<Upstream> {
  const up = await startUpstream(opts);
  cleanups.push(() => up.stop());
  return up;
}

async function send(port: number): Promise<void> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  await t.sendMail({ from: 'app@jts.local', to: 'ops@contoso.com', subject: 'build failed', text: 'x' });
  t.close();
}

const check = (dataDir: string, ...args: string[]) => cli(['check', '--data-dir', dataDir, ...args]);

describe('smtp-relay check against a real relay', () => {
  it('OK while the relay runs and delivers; CRITICAL once it is stopped', async () => {
    const up = await upstream({ starttls: 'disabled' });
    const { dataDir, port } = await relayDir({ host: '127.0.0.1', port: up.port, security: 'none' });
    const relay = await start(dataDir);
    await send(port);
    await waitFor(() => up.messages.length === 1, 20_000, 'the delivery');
    await waitFor(async () => (await check(dataDir)).stdout.includes('queue empty'), 10_000, 'an empty queue');
    const ok = await check(dataDir);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(PLUGIN_LINE);
    expect(ok.stdout).toBe(`SMTP RELAY OK - running, queue empty, listening on 127.0.0.1:${port} | queued=0;;;0 deferred=0;;;0 failed=0;;;0 oldest=0s;900;3600;0\n`);

    relay.child.kill('SIGTERM');
    await relay.exited;
    const stopped = await check(dataDir);
    expect(stopped.code).toBe(2);
    expect(stopped.stdout).toMatch(PLUGIN_LINE);
    expect(stopped.stdout).toMatch(/^SMTP RELAY CRITICAL - relay not running \|/);
  });

  it('WARNING, then CRITICAL, while mail waits for a smarthost that refuses connections, with the reason', async () => {
    const closedPort = await freePort();
    const { dataDir, port } = await relayDir({ host: '127.0.0.1', port: closedPort, security: 'none' });
    await start(dataDir);
    await send(port);
    await waitFor(async () => JSON.parse((await cli(['status', '--json', '--data-dir', dataDir])).stdout).lastError, 20_000, 'the failed attempt');
    await new Promise((r) => setTimeout(r, 2100));
    const warn = await check(dataDir, '--warn-age', '1s', '--crit-age', '1h');
    expect(warn.code, warn.stdout).toBe(1);
    expect(warn.stdout).toMatch(PLUGIN_LINE);
    expect(warn.stdout).toMatch(/^SMTP RELAY WARNING - oldest waiting message is \d+ s old \(limit 1 s\): .*ECONNREFUSED.* \| queued=1;;;0 deferred=1;;;0 failed=0;;;0 oldest=\d+s;1;3600;0\n$/);
    const crit = await check(dataDir, '--warn-age', '1s', '--crit-age', '2s');
    expect(crit.code, crit.stdout).toBe(2);
    expect(crit.stdout).toMatch(/^SMTP RELAY CRITICAL - oldest waiting message is \d+ s old \(limit 2 s\)/);
    const queueLimit = await check(dataDir, '--warn-queue', '1');
    expect(queueLimit.code).toBe(1);
    expect(queueLimit.stdout).toMatch(/1 messages waiting \(limit 1\) \| queued=1;1;;0 /);
  });

  it('CRITICAL when the smarthost refuses the sign-in (535)', async () => {
    const up = await upstream({ starttls: 'disabled', auth: { user: 'jts@contoso.com', pass: 'right' } });
    const { dataDir, port } = await relayDir({ host: '127.0.0.1', port: up.port, security: 'none', auth: { method: 'password', username: 'jts@contoso.com' } });
    await start(dataDir, { SMTP_RELAY_SMARTHOST_PASSWORD: 'wrong' });
    await send(port);
    await waitFor(async () => (await check(dataDir)).code === 2, 20_000, 'the sign-in failure');
    const r = await check(dataDir);
    expect(r.stdout).toMatch(PLUGIN_LINE);
    expect(r.stdout).toMatch(/^SMTP RELAY CRITICAL - sign-in failed: authentication failed at .*535.* \| queued=1;;;0/);
  });

  it('UNKNOWN (3) for a usage error or a data directory it cannot read', async () => {
    const { dataDir } = await relayDir({});
    const bad = await check(dataDir, '--warn-age', 'soon');
    expect(bad.code).toBe(3);
    expect(bad.stdout).toMatch(/^SMTP RELAY UNKNOWN - usage: --warn-age "soon" is not a duration/);
    const typo = await check(dataDir, '--warn-ag', '5m');
    expect(typo.code).toBe(3);
    expect(typo.stdout).toMatch(/^SMTP RELAY UNKNOWN - usage: unknown argument --warn-ag 5m/);
    // A relay that takes the control connection and never answers.
    const held: net.Socket[] = [];
    const key = await ensureControlKey(dataDir);
    await fs.mkdir(path.join(dataDir, 'control'), { recursive: true });
    const hung = net.createServer((s) => held.push(s)).listen(controlAddress(dataDir, key));
    cleanups.push(() => new Promise((r) => { held.forEach((s) => s.destroy()); hung.close(r); }));
    const started = Date.now();
    const silent = await check(dataDir, '--timeout', '1');
    expect(silent.code).toBe(3);
    expect(silent.stdout).toBe('SMTP RELAY UNKNOWN - cannot read the relay status in ' + dataDir + ': no answer from the relay within 1 s\n');
    expect(Date.now() - started).toBeLessThan(10_000);
    const missing = await check(path.join(dataDir, 'nowhere'));
    expect(missing.code).toBe(3);
    expect(missing.stdout).toMatch(/^SMTP RELAY UNKNOWN - cannot read the data directory .*nowhere: ENOENT\n$/);
  });
});

describe('evaluateCheck', () => {
  const opts = { warnAgeMs: 15 * 60_000, critAgeMs: 3_600_000, warnQueue: null, critQueue: null };
  const running = (over: Partial<RelayStatus>): RelayStatus => ({ ...stoppedStatus(), state: 'running', ...over });

  it('names every problem, worst first, and takes the worst exit code', () => {
    const r = evaluateCheck(running({ queued: 3, deferred: 3, failed: 2, oldestQueuedSeconds: 1200, lastError: 'smarthost unreachable: connect ECONNREFUSED\r\n| x' }), opts);
    expect(r).toEqual({
      code: 1,
      line: 'SMTP RELAY WARNING - oldest waiting message is 20 min old (limit 15 min): smarthost unreachable: connect ECONNREFUSED / x; 2 failed messages kept (see smtp-relay queue list) | queued=3;;;0 deferred=3;;;0 failed=2;;;0 oldest=1200s;900;3600;0',
    });
  });

  it('not set up and paused are warnings; no status at all is CRITICAL', () => {
    expect(evaluateCheck(running({ state: 'unconfigured', lastError: 'no smarthost configured' }), opts).line).toMatch(/^SMTP RELAY WARNING - not set up: no smarthost configured \|/);
    expect(evaluateCheck(running({ state: 'paused' }), opts).code).toBe(1);
    expect(evaluateCheck(null, opts)).toMatchObject({ code: 2, line: expect.stringMatching(/^SMTP RELAY CRITICAL - relay not running \| queued=0;;;0/) });
    expect(evaluateCheck(running({ queued: 5, oldestQueuedSeconds: 30 }), { ...opts, warnQueue: 2, critQueue: 5 }).code).toBe(2);
  });
});
