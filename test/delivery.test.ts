// Delivery semantics Postfix users trust (issue 3): per-recipient outcomes, retries and their timing,
// expiry with exactly one bounce, destination health, lost replies, fairness, graceful shutdown.
// Every test checks what reached the upstream and what the spool holds afterwards.
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../src/config/schema.js';
import { SmarthostTransport } from '../src/deliver/smarthost.js';
import { Spool } from '../src/spool/spool.js';
import { startRelay, tempDataDir, waitFor, type TestRelay } from './support/relay.js';
import { startUpstream, type Upstream, type UpstreamOptions } from './support/upstream.js';

let relay: TestRelay | null = null;
let upstream: Upstream | null = null;
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  await relay?.stop(500);
  await upstream?.stop();
  for (const c of cleanups.splice(0)) await c();
  relay = null;
  upstream = null;
});

async function up(options: UpstreamOptions = {}): Promise<Upstream> {
  upstream = await startUpstream({ starttls: 'disabled', ...options });
  return upstream;
}

function smarthost(port: number, delivery: ConfigInput['delivery'] = {}): ConfigInput {
  return { delivery: { retrySchedule: '1h', ...delivery }, smarthost: { host: '127.0.0.1', port, security: 'none' } };
}

async function send(from: string, to: string[], subject = 'test'): Promise<string> {
  const c = nodemailer.createTransport({ host: '127.0.0.1', port: relay!.port, secure: false, ignoreTLS: true });
  const info = await c.sendMail({ envelope: { from, to }, raw: `From: <${from || 'nobody@x.test'}>\r\nSubject: ${subject}\r\n\r\nbody\r\n` });
  return info.response.split(' ').at(-1) as string;
}

const status = () => relay!.relay.getStatus();
const bounces = () => upstream!.messages.filter((m) => m.from === '');
const normal = () => upstream!.messages.filter((m) => m.from !== '');

describe('per-recipient outcomes', () => {
  it('250/450/550 on three recipients: the 250 one is sent once, the 450 one retried alone, the 550 one bounced', async () => {
    const replies: NonNullable<UpstreamOptions['replies']> = {
      rcpt: { 'soft@d.test': { code: 450, message: '4.2.1 Mailbox busy' }, 'hard@d.test': { code: 550, message: '5.1.1 User unknown' } },
    };
    await up({ replies });
    relay = await startRelay(smarthost(upstream!.port, { retrySchedule: '1s' }));
    await send('app@s.test', ['ok@d.test', 'soft@d.test', 'hard@d.test']);
    await waitFor(() => normal().length === 1 && bounces().length === 1, 10_000, 'first attempt and its bounce');
    expect(normal()[0]!.to).toEqual(['ok@d.test']);
    expect(bounces()[0]!.to).toEqual(['app@s.test']);
    const dsn = bounces()[0]!.raw.toString();
    expect(dsn).toMatch(/Content-Type: multipart\/report; report-type=delivery-status/);
    expect(dsn).toMatch(/Final-Recipient: rfc822; hard@d\.test\r\nAction: failed\r\nStatus: 5\.1\.1\r\n/);
    expect(dsn).toMatch(/Diagnostic-Code: smtp; 550 5\.1\.1 User unknown/);
    expect(dsn).not.toMatch(/soft@d\.test|Final-Recipient: rfc822; ok@d\.test/);
    // The bounce is queued before the attempt's state is committed (a crash may repeat it, never lose
    // it), and new mail goes out at once: it can arrive before that commit.
    await waitFor(async () => (await status()).deferred === 1, 5000, 'the attempt recorded');

    delete replies.rcpt!['soft@d.test']; // the mailbox is free again
    await waitFor(() => normal().length === 2, 10_000, 'the retry');
    expect(normal()[1]!.to).toEqual(['soft@d.test']);
    const s = await waitFor(async () => { const st = await status(); return st.queued === 0 ? st : null; }, 5000, 'queue empty');
    expect(s.failed).toBe(1); // kept, with the reason, until deleted
    const { items } = await relay.relay.listQueue();
    expect(items).toHaveLength(1);
    expect(items[0]!.recipients.map((r) => `${r.address}:${r.status}:${r.attempts}`)).toEqual(['ok@d.test:sent:1', 'soft@d.test:sent:2', 'hard@d.test:failed:1']);
    await new Promise((r) => setTimeout(r, 1200));
    expect(normal()).toHaveLength(2); // nobody sent twice
  });

  it('DATA 4xx defers the whole message; DATA 5xx fails it whole, with one bounce', async () => {
    const replies: NonNullable<UpstreamOptions['replies']> = { data: { code: 451, message: '4.3.0 Try later' } };
    await up({ replies });
    relay = await startRelay(smarthost(upstream!.port));
    await send('app@s.test', ['a@d.test', 'b@d.test']);
    await waitFor(async () => (await status()).deferred === 1, 5000, 'deferral');
    let [m] = (await relay.relay.listQueue()).items;
    expect(m!.recipients.map((r) => r.status)).toEqual(['deferred', 'deferred']);
    expect(m!.recipients[0]!.lastReply).toMatch(/^451 4\.3\.0 Try later/);

    replies.data = { code: 554, message: '5.6.0 Message rejected' };
    await relay.relay.retry(m!.id);
    await waitFor(() => bounces().length === 1, 5000, 'bounce');
    const id = m!.id;
    m = await waitFor(async () => { const x = await relay!.relay.getMessage(id); return x.status === 'failed' ? x : null; }, 5000, 'the attempt recorded');
    expect(m.recipients.map((r) => r.status)).toEqual(['failed', 'failed']);
    expect(bounces()[0]!.raw.toString()).toMatch(/Final-Recipient: rfc822; a@d\.test[\s\S]*Final-Recipient: rfc822; b@d\.test/);
    expect(normal()).toHaveLength(2); // both attempts reached DATA, neither was accepted
    // The bounce met the same 554: a bounce is never bounced; it stays in failed/ for the admin to see.
    await waitFor(async () => (await status()).failed === 2, 5000, 'the failed bounce kept');
    expect(bounces()).toHaveLength(1);
  });
});

describe('destination health', () => {
  it('421 at MAIL and a 554 greeting defer without using up the message\'s retries', async () => {
    for (const replies of [{ mailFrom: { code: 421, message: '4.3.2 Service not available, closing' } }, { connect: { code: 554, message: '5.7.1 Your IP is not allowed' } }]) {
      await up({ replies });
      relay = await startRelay(smarthost(upstream!.port));
      const id = await send('app@s.test', ['a@d.test']);
      await waitFor(async () => (await status()).deferred === 1, 5000, 'deferral');
      const [m] = (await relay.relay.listQueue()).items;
      expect(m).toMatchObject({ id, status: 'deferred', attempts: 1 });
      // The destination's backoff (1h step) decides the next try; the message's own retry step is unused.
      const state = JSON.parse(await fs.readFile(await stateFile(relay.dataDir, id), 'utf8'));
      expect(state.rcpts[0].retry).toBeUndefined();
      expect(state.rcpts[0].next - Date.now()).toBeGreaterThan(30 * 60_000);
      expect(upstream!.messages).toEqual([]);
      expect(bounces()).toEqual([]);
      await relay.stop(500);
      await upstream!.stop();
      relay = null;
      upstream = null;
    }
  });

  it('a server that never greets times out, defers, and is retried', async () => {
    const silent = net.createServer(() => {}); // accepts, says nothing
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => { silent.close(() => r()); for (const s of sockets) s.destroy(); }));
    const sockets = new Set<net.Socket>();
    silent.on('connection', (s) => sockets.add(s));
    const port = (silent.address() as net.AddressInfo).port;
    relay = await startRelay(smarthost(port, { retrySchedule: '1s' }), {
      makeTransport: (c, p) => new SmarthostTransport(c, p, { greetingTimeout: 500 }),
    });
    await send('app@s.test', ['a@d.test']);
    const s = await waitFor(async () => { const st = await status(); return st.deferred === 1 ? st : null; }, 5000, 'deferral');
    expect(s.lastError).toMatch(/greeting/i);
    await waitFor(() => sockets.size >= 2, 5000, 'a second try');
    expect((await status()).queued).toBe(1);
  });

  it('upstream down then up: the gaps between tries follow the schedule, then everything is delivered once', async () => {
    const tries: number[] = [];
    const refuser = net.createServer((s) => { tries.push(Date.now()); s.destroy(); });
    await new Promise<void>((r) => refuser.listen(0, '127.0.0.1', r));
    const port = (refuser.address() as net.AddressInfo).port;
    // One connection, so every try is one message's try, and the gaps are the destination's backoff.
    relay = await startRelay({ ...smarthost(port, { retrySchedule: '1s,2s,3s' }), smarthost: { host: '127.0.0.1', port, security: 'none', maxConnections: 1 } });
    for (let i = 0; i < 3; i++) await send('app@s.test', [`r${i}@d.test`]);
    await waitFor(() => tries.length >= 4, 15_000, `four tries (${tries.map((t) => t - tries[0]!).join(",")})`);
    await new Promise<void>((r) => refuser.close(() => r()));
    const gaps = tries.slice(1, 4).map((t, i) => (t - (tries[i] as number)) / 1000);
    // Each gap is the schedule's step ±10 % jitter (plus a little processing time).
    expect(gaps[0]).toBeGreaterThanOrEqual(0.85);
    expect(gaps[0]).toBeLessThan(1.5);
    expect(gaps[1]).toBeGreaterThanOrEqual(1.75);
    expect(gaps[1]).toBeLessThan(2.6);
    expect(gaps[2]).toBeGreaterThanOrEqual(2.65);
    expect(gaps[2]).toBeLessThan(3.6);

    await up({ port });
    await waitFor(() => upstream!.messages.length === 3, 10_000, 'three deliveries');
    expect(upstream!.messages.map((m) => m.to[0]).sort()).toEqual(['r0@d.test', 'r1@d.test', 'r2@d.test']);
    await waitFor(async () => (await status()).queued === 0, 5000, 'empty queue');
  });

  it('a reply lost after the final dot: retried, logged as a possible duplicate, never bounced', async () => {
    await up({ closeAfterData: true });
    relay = await startRelay(smarthost(upstream!.port, { retrySchedule: '1s' }));
    await send('app@s.test', ['a@d.test']);
    await waitFor(async () => (await status()).deferred === 1, 5000, 'deferral');
    const log = () => fs.readFile(path.join(relay!.dataDir, 'logs', 'relay.log'), 'utf8');
    expect(await log()).toMatch(/lost after the end of data: message may be sent more than once/);
    const port = upstream!.port;
    await upstream!.stop();
    const first = upstream!.messages.length;
    await up({ port });
    await waitFor(() => upstream!.messages.length === 1, 10_000, 'the retry');
    await waitFor(async () => (await status()).queued === 0, 5000, 'empty queue');
    expect(first).toBe(1); // the first server did get it: a duplicate, accepted by design
    expect(bounces()).toEqual([]);
    expect((await status()).failed).toBe(0);
  });
});

describe('expiry and notifications', () => {
  it('expiry: one delay warning, then exactly one bounce (5.4.7) to the sender; none for a <> sender', async () => {
    await up({ replies: { rcpt: { 'stuck@d.test': { code: 450, message: '4.2.2 Mailbox full' } } } });
    relay = await startRelay(smarthost(upstream!.port, { retrySchedule: '1s', maxQueueTime: '3s', delayWarningAfter: '1500ms' }));
    await send('app@s.test', ['stuck@d.test']);
    await send('', ['stuck@d.test']);
    const s = await waitFor(async () => { const st = await status(); return st.failed === 2 && st.queued === 0 ? st : null; }, 15_000, 'both expired');
    expect(s.deferred).toBe(0);
    const reports = bounces().map((m) => m.raw.toString());
    expect(bounces().map((m) => m.to)).toEqual([['app@s.test'], ['app@s.test']]);
    expect(reports[0]).toMatch(/Action: delayed\r\nStatus: 4\.2\.2/);
    expect(reports[0]).toMatch(/THIS IS A WARNING ONLY/);
    expect(reports[1]).toMatch(/Final-Recipient: rfc822; stuck@d\.test\r\nAction: failed\r\nStatus: 5\.4\.7/);
    expect(reports[1]).toMatch(/gave up: still undeliverable after 3s, delivery\.maxQueueTime/);
    const { items } = await relay.relay.listQueue();
    expect(items.map((m) => m.recipients[0]!.lastReply)).toEqual([expect.stringMatching(/^450 4\.2\.2 Mailbox full \(gave up/), expect.stringMatching(/^450 4\.2\.2 Mailbox full \(gave up/)]);
    expect(await fs.readFile(path.join(relay.dataDir, 'logs', 'relay.log'), 'utf8')).toMatch(/from=<> 1 recipient\(s\) failed: no notification is sent/);
  });
});

describe('fairness and shutdown', () => {
  it('2,000 deferred messages do not starve new mail: it goes out first-come', async () => {
    const dataDir = await tempDataDir();
    // The backlog is set up, not tested: its 4,000 writes need not reach the disk (with fsync they took most
    // of the test's minute on a loaded machine).
    const spool = await Spool.open(path.join(dataDir, 'spool'), {
      openFile: async (file, flags, mode) => {
        const fh = await fs.open(file, flags, mode);
        return { write: fh.write.bind(fh), writeFile: fh.writeFile.bind(fh), close: fh.close.bind(fh), sync: () => Promise.resolve() };
      },
    });
    const past = Date.now() - 3_600_000; // due an hour ago: an older bucket, scanned first
    for (let i = 0; i < 2000; i++) {
      const ingest = await spool.beginIngest();
      await ingest.write(Buffer.from(`Subject: backlog ${i}\r\n\r\nold\r\n`));
      await ingest.commit({ from: 'app@s.test', to: [`old${i}@d.test`], client: { ip: '127.0.0.1', helo: 't' }, subject: `backlog ${i}` });
    }
    for await (const e of spool.entries()) {
      const st = await spool.load(e);
      st!.rcpts[0]!.st = 'd';
      st!.rcpts[0]!.n = 1;
      st!.rcpts[0]!.next = past;
      await spool.update(e, st!);
    }
    await spool.close();
    await up({ dataReplyDelayMs: 5 });
    relay = await startRelay({ ...smarthost(upstream!.port), smarthost: { host: '127.0.0.1', port: upstream!.port, security: 'none', maxConnections: 2 } }, { dataDir });
    cleanups.push(() => fs.rm(dataDir, { recursive: true, force: true }));
    await waitFor(() => upstream!.messages.length >= 50, 20_000, 'the backlog draining');
    await send('app@s.test', ['new@d.test'], 'new mail');
    const before = upstream!.messages.length; // committed now: from here it should be next in line
    await waitFor(() => upstream!.messages.some((m) => m.to[0] === 'new@d.test'), 20_000, 'the new message');
    const position = upstream!.messages.findIndex((m) => m.to[0] === 'new@d.test') - before;
    expect(position).toBeLessThan(10); // not behind the remaining ~1,900
    expect(upstream!.messages.length).toBeLessThan(1500);
  }, 60_000);

  it('stop abandons a delivery stuck past the grace period, within a bound, and the message is delivered after restart', async () => {
    await up({ dataReplyDelayMs: 20_000 });
    const dataDir = await tempDataDir();
    cleanups.push(() => fs.rm(dataDir, { recursive: true, force: true }));
    relay = await startRelay(smarthost(upstream!.port), { dataDir });
    const id = await send('app@s.test', ['a@d.test']);
    await waitFor(() => upstream!.messages.length === 1, 5000, 'DATA sent, reply pending');
    const started = Date.now();
    await relay.relay.stop(300);
    expect(Date.now() - started).toBeLessThan(3000);
    relay = null;
    const port = upstream!.port;
    await upstream!.stop();
    await up({ port });
    relay = await startRelay(smarthost(port), { dataDir });
    await relay.relay.retryAll();
    await waitFor(() => upstream!.messages.length === 1, 10_000, 'delivery after the restart');
    await waitFor(async () => (await status()).queued === 0, 5000, 'empty queue');
    expect(upstream!.messages[0]!.raw.toString()).toContain(`id ${id}`);
  });
});

async function stateFile(dataDir: string, id: string): Promise<string> {
  const q = path.join(dataDir, 'spool', 'q');
  for (const bucket of await fs.readdir(q)) {
    for (const name of await fs.readdir(path.join(q, bucket))) if (name.includes(id)) return path.join(q, bucket, name);
  }
  throw new Error(`no state file for ${id}`);
}
