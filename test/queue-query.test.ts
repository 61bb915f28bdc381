// The queue as the relay sorts, filters, searches and pages it (RelayApi.listQueue with a query), and
// the log lines that tie a queued message to its id, Message-ID and recipients. Real SMTP on loopback.
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, waitFor, type TestRelay } from './support/relay.js';
import { startUpstream, type Upstream } from './support/upstream.js';

const WAITING = 300;

describe('listQueue with a query (300 waiting, 1 failed)', () => {
  let relay: TestRelay;
  let upstream: Upstream;
  let failedId = '';

  beforeAll(async () => {
    upstream = await startUpstream({ starttls: 'disabled', replies: { rcpt: { 'gone@d.test': { code: 550, message: '5.1.1 User unknown' } } } });
    relay = await startRelay({ delivery: { retrySchedule: '1h' }, smarthost: { host: '127.0.0.1', port: upstream.port, security: 'none' } });
    await nodemailer.createTransport({ host: '127.0.0.1', port: relay.port, secure: false, ignoreTLS: true }).sendMail({
      envelope: { from: '', to: ['gone@d.test'] }, // from <>: no bounce joins the queue
      raw: 'From: app@jts.localdomain\r\nTo: gone@d.test\r\nSubject: Build 4711 broke\r\nMessage-ID: <build-4711@jts.localdomain>\r\n\r\nbody\r\n',
    });
    await waitFor(async () => (await relay.relay.getStatus()).failed === 1, 10_000, 'the 550');
    await relay.relay.pause();
    // Sent after the failure, so in arrival (and spool) order the failed message comes first only if sorted so.
    for (let i = 0; i < WAITING; i++) await relay.relay.sendTest(`u${i}@contoso.com`);
    failedId = (await relay.relay.listQueue({ filter: 'failed' })).items[0]!.id;
  }, 60_000);

  afterAll(async () => {
    await relay?.stop(1000);
    await upstream?.stop();
  });

  it('failed first, then the rest oldest first: the failed message is on the first page', async () => {
    const page = await relay.relay.listQueue({ limit: 50 });
    expect(page).toMatchObject({ total: WAITING + 1, matched: WAITING + 1 });
    expect(page.items).toHaveLength(50);
    expect(page.items[0]).toMatchObject({ status: 'failed', subject: 'Build 4711 broke', messageId: 'build-4711@jts.localdomain' });
    expect(page.items.slice(1).map((m) => m.recipients[0]!.address)).toEqual(Array.from({ length: 49 }, (_, i) => `u${i}@contoso.com`));
    const next = await relay.relay.listQueue({ offset: 50, limit: 50 });
    expect(next.items[0]!.recipients[0]!.address).toBe('u49@contoso.com');
  });

  it('filters by status, sorts by age and by recipient, both ways', async () => {
    expect((await relay.relay.listQueue({ filter: 'failed' })).matched).toBe(1);
    expect((await relay.relay.listQueue({ filter: 'problems' })).matched).toBe(1);
    const waiting = await relay.relay.listQueue({ filter: 'waiting', limit: 1000 });
    expect(waiting.matched).toBe(WAITING);
    expect(waiting.items.every((m) => m.status === 'queued')).toBe(true);
    const newest = await relay.relay.listQueue({ sort: 'age', order: 'desc', limit: 1 });
    expect(newest.items[0]!.recipients[0]!.address).toBe(`u${WAITING - 1}@contoso.com`);
    const byRecipient = await relay.relay.listQueue({ sort: 'recipient', limit: 4 });
    expect(byRecipient.items.map((m) => m.recipients[0]!.address)).toEqual(['gone@d.test', 'u0@contoso.com', 'u100@contoso.com', 'u101@contoso.com']);
  });

  it('searches recipients, the sender, the subject, the queue id and the Message-ID, any case', async () => {
    const one = async (search: string) => {
      const r = await relay.relay.listQueue({ search });
      expect(r.matched, search).toBe(1);
      return r.items[0]!;
    };
    expect((await one('U123@Contoso')).recipients[0]!.address).toBe('u123@contoso.com');
    expect((await one('build 4711')).id).toBe(failedId);
    expect((await one('BUILD-4711@jts')).id).toBe(failedId);
    expect((await one(failedId)).status).toBe('failed');
    const sent = (await relay.relay.listQueue({ search: 'u7@contoso.com' })).items[0]!;
    expect((await one(sent.messageId!)).id).toBe(sent.id);
    expect((await relay.relay.listQueue({ search: 'nobody-like-this' })).matched).toBe(0);
  });

  it('log lines carry the queue id, each to= and message-id=, and a search finds them', async () => {
    const lines = await relay.relay.getLog({ contains: 'build-4711@jts.localdomain' });
    expect(lines.find((l) => l.includes('status=queued'))).toMatch(new RegExp(`id=${failedId} from=<> to=<gone@d\\.test> message-id=<build-4711@jts\\.localdomain> size=\\d+ nrcpt=1 client=\\[127\\.0\\.0\\.1\\] commit=\\d+\\.\\d{3} status=queued$`));
    const byId = await relay.relay.getLog({ contains: `id=${failedId}` });
    expect(byId.some((l) => /to=<gone@d\.test> .*status=bounced \(550 5\.1\.1/.test(l))).toBe(true);
  });

  it('bulk retry and delete report what could not be done', async () => {
    const { items } = await relay.relay.listQueue({ filter: 'waiting', limit: 2 });
    const ids = items.map((m) => m.id);
    expect(await relay.relay.bulk('delete', ids)).toEqual({ done: 2, problems: [] });
    expect((await relay.relay.getStatus()).queued).toBe(WAITING - 2);
    const again = await relay.relay.bulk('retry', [ids[0]!, failedId]);
    expect(again.done).toBe(1);
    expect(again.problems).toEqual([{ id: ids[0], message: `no message ${ids[0]} in the queue` }]);
    expect((await relay.relay.listQueue({ filter: 'failed' })).matched).toBe(0); // retried: waiting again
  });
});
