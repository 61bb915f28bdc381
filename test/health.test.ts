// The one health model: its states from the relay's facts (unit), and what a real relay reports for a
// first run, a smarthost refusing connections, a pause and a queue that empties again (loopback SMTP).
import net from 'node:net';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { healthOf, type HealthFacts } from '../src/health/model.js';
import { startRelay, waitFor, type TestRelay } from './support/relay.js';
import { startUpstream, type Upstream } from './support/upstream.js';

const NOW = 1_800_000_000_000;
const facts = (over: Partial<HealthFacts> = {}): HealthFacts => ({
  state: 'running', queued: 0, deferred: 0, failed: 0, sending: 0, oldestQueuedSeconds: null, lastError: null,
  unreachable: null, diskLow: null, nextDue: null, stuckAfterMinutes: 15, ...over,
});

describe('health model', () => {
  const cases: [string, Partial<HealthFacts>, string, string | null][] = [
    ['all well', {}, 'running', null],
    ['delivering', { queued: 3, sending: 2, oldestQueuedSeconds: 2 }, 'sending', null],
    ['first run', { state: 'unconfigured' }, 'not-set-up', 'set-up'],
    ['535', { state: 'auth-failed', queued: 2, lastError: 'authentication failed at smtp.office365.com: 535 5.7.139' }, 'sign-in-failed', 'sign-in'],
    ['paused', { state: 'paused', queued: 4 }, 'paused', 'resume'],
    ['stopped', { state: 'stopped' }, 'stopped', 'start'],
    ['disk low', { queued: 1, diskLow: { freeBytes: 12e6 } }, 'disk-low', 'free-disk'],
    ['refused', { queued: 5, unreachable: { since: NOW - 180_000, until: NOW + 60_000, reason: 'connect ECONNREFUSED', host: 'smtp.contoso.com[10.0.0.5]:587' } }, 'smarthost-unreachable', 'retry'],
    ['stuck', { queued: 1, deferred: 1, oldestQueuedSeconds: 15 * 60, lastError: 'a@b.c: 451 4.4.1 timeout' }, 'mail-stuck', 'show-queue'],
    ['a failed message kept', { failed: 1 }, 'running', 'show-queue'],
  ];
  for (const [name, over, state, action] of cases) {
    it(`${name} -> ${state}`, () => {
      const h = healthOf(facts(over), NOW);
      expect(h.state).toBe(state);
      expect(h.action?.id ?? null).toBe(action);
      expect(h.cause.length).toBeGreaterThan(10);
    });
  }

  it('says why, since when and when next for an unreachable smarthost; after the backoff it is being tried', () => {
    const unreachable = { since: NOW - 180_000, until: NOW + 60_000, reason: 'connect ECONNREFUSED 10.0.0.5:587', host: 'smtp.contoso.com[10.0.0.5]:587' };
    const h = healthOf(facts({ queued: 5, unreachable }), NOW);
    expect(h).toMatchObject({ title: 'Smarthost unreachable', nextTry: NOW + 60_000, severity: 'error', action: { label: 'Retry now' } });
    expect(h.cause).toBe('smtp.contoso.com[10.0.0.5]:587 has not taken a connection for 3 min: connect ECONNREFUSED 10.0.0.5:587; 5 messages waiting.');
    const trying = healthOf(facts({ queued: 5, sending: 1, unreachable: { ...unreachable, until: NOW - 1 } }), NOW);
    expect(trying).toMatchObject({ state: 'smarthost-unreachable', nextTry: null });
    expect(trying.cause).toMatch(/5 messages waiting, trying again now\.$/);
  });

  it('a stop the user must lift outranks a wait: sign-in failed over stuck, paused over unreachable', () => {
    expect(healthOf(facts({ state: 'auth-failed', queued: 1, oldestQueuedSeconds: 3600 }), NOW).state).toBe('sign-in-failed');
    expect(healthOf(facts({ state: 'paused', queued: 1, unreachable: { since: NOW, until: NOW + 1000, reason: 'x', host: 'h' } }), NOW).state).toBe('paused');
  });

  it('counts in words: 1 message, 2 messages', () => {
    expect(healthOf(facts({ state: 'paused', queued: 1 }), NOW).cause).toContain('1 message waiting');
    expect(healthOf(facts({ failed: 2 }), NOW).cause).toContain('2 messages failed for good and are kept');
  });
});

describe('health of a real relay', () => {
  let relay: TestRelay | null = null;
  let upstream: Upstream | null = null;
  afterEach(async () => {
    await relay?.stop(1000);
    await upstream?.stop();
    relay = null;
    upstream = null;
  });
  const send = (port: number, to: string, n: number) => nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true })
    .sendMail({ envelope: { from: 'app@jts.localdomain', to: [to] }, raw: `From: app@jts.localdomain\r\nTo: ${to}\r\nSubject: health ${n}\r\nMessage-ID: <h${n}@jts.localdomain>\r\n\r\nbody\r\n` });

  it('a first run with nothing configured is "not set up", not green, before any mail arrives', async () => {
    relay = await startRelay({});
    const s = await relay.relay.getStatus();
    expect(s.state).toBe('unconfigured');
    expect(s.health).toMatchObject({ state: 'not-set-up', action: { id: 'set-up', label: 'Set up the smarthost' } });
    expect(s.health.cause).toMatch(/no smarthost configured yet/i);
  });

  it('a smarthost refusing connections: unreachable with the host, the reason and the next try; rows say the same', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r)); // nothing listens: connection refused
    relay = await startRelay({ delivery: { retrySchedule: '1m' }, smarthost: { host: '127.0.0.1', port, security: 'none' } });
    await send(relay.port, 'dev@contoso.com', 1);
    const s = await waitFor(async () => {
      const st = await relay!.relay.getStatus();
      return st.health.state === 'smarthost-unreachable' ? st : null;
    }, 10_000, 'the smarthost to count as unreachable');
    expect(s.state).toBe('running'); // the public state names stay as they were
    expect(s.health.cause).toContain(`127.0.0.1[127.0.0.1]:${port}`);
    expect(s.health.cause).toMatch(/ECONNREFUSED|refused/i);
    expect(s.health.nextTry! - Date.now()).toBeGreaterThan(30_000); // the 1 min backoff, not "now"
    // The advice names the configured smarthost, not Microsoft 365's.
    expect(s.advice?.fix).toContain(`Test-NetConnection 127.0.0.1 -Port ${port}`);
    expect(s.advice?.fix).not.toContain('office365');
    const { items } = await relay.relay.listQueue();
    expect(items[0]!.nextAttempt).toBe(s.health.nextTry);
    expect(items[0]!.held).toMatch(/unreachable/);
  });

  it('paused: the health says so and no row promises a next try; an emptied queue forgets its last error', async () => {
    upstream = await startUpstream({ starttls: 'disabled', replies: { rcpt: { 'busy@d.test': { code: 450, message: '4.2.1 Mailbox busy' } } } });
    relay = await startRelay({ delivery: { retrySchedule: '1h' }, smarthost: { host: '127.0.0.1', port: upstream.port, security: 'none' } });
    await send(relay.port, 'busy@d.test', 2);
    const deferred = await waitFor(async () => {
      const st = await relay!.relay.getStatus();
      return st.deferred === 1 ? st : null;
    }, 10_000, 'a deferral');
    expect(deferred.lastError).toMatch(/450 4\.2\.1/);
    await relay.relay.pause();
    const paused = await relay.relay.getStatus();
    expect(paused.health).toMatchObject({ state: 'paused', nextTry: null, action: { id: 'resume' } });
    const [row] = (await relay.relay.listQueue()).items;
    expect(row).toMatchObject({ nextAttempt: null, held: 'delivery is paused' });
    await relay.relay.deleteMessage(row!.id);
    await relay.relay.resume();
    const emptied = await relay.relay.getStatus();
    expect(emptied.lastError).toBeNull();
    expect(emptied.health.state).toBe('running');
  });
});
