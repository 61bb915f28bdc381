// New mail reaches delivery through the queue manager's list of fresh messages; the queue directory is
// read for mail that became due otherwise (a retry time, a resume). Reading it again for every message
// that arrives cost about ten getdents64 and three opens a message (strace -f -c, one connection per message).
import { afterAll, expect, it, vi } from 'vitest';
import { Spool } from '../src/spool/spool.js';
import { RawSmtp } from './support/raw-smtp.js';
import { startRelay, waitFor, type TestRelay } from './support/relay.js';
import { startUpstream, type Upstream } from './support/upstream.js';

let upstream: Upstream | null = null;
let relay: TestRelay | null = null;
afterAll(async () => {
  await relay?.stop();
  await upstream?.stop();
});

const MESSAGES = 30;

it('mail sent one connection per message is delivered without a queue scan per message', async () => {
  upstream = await startUpstream({ starttls: 'disabled' });
  const scans = vi.spyOn(Spool.prototype, 'scanDue');
  relay = await startRelay({ smarthost: { host: '127.0.0.1', port: upstream.port, security: 'none' } });
  await waitFor(() => scans.mock.calls.length > 0, 10_000, 'the first scan at start');
  const before = scans.mock.calls.length;
  for (let i = 0; i < MESSAGES; i++) {
    const c = await RawSmtp.connect(relay.port);
    await c.envelope('app@scan.test', [`to${i}@upstream.test`]);
    expect(await c.command('DATA')).toMatch(/^354/);
    await c.write(`Subject: ${i}\r\n\r\nbody ${i}\r\n.\r\n`);
    expect(await c.reply(10_000)).toMatch(/^250/);
    c.close();
  }
  await waitFor(() => upstream!.messages.length === MESSAGES, 20_000, 'every message upstream');
  // A few scans may still happen (the 30 s safety net, a delivery that needed a retry); not one a message.
  expect(scans.mock.calls.length - before).toBeLessThan(MESSAGES / 3);
}, 60_000);
