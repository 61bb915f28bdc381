// Message fidelity and honest logs (issue 18): what misbehaving clients and upstreams on loopback must
// not be able to do to a message, the queue or the log.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SmarthostTransport } from '../src/deliver/smarthost.js';
import { HeaderSection } from '../src/receive/headers.js';
import { RawSmtp } from './support/raw-smtp.js';
import { startRelay, tempDataDir, waitFor, type TestRelay } from './support/relay.js';
import { startUpstream, type Upstream, type UpstreamOptions } from './support/upstream.js';

let relay: TestRelay | null = null;
let upstream: Upstream | null = null;
const clients: RawSmtp[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await relay?.stop();
  await upstream?.stop();
  relay = null;
  upstream = null;
});

async function relayTo(options: UpstreamOptions = {}): Promise<{ relay: TestRelay; upstream: Upstream }> {
  upstream = await startUpstream({ starttls: 'disabled', ...options });
  relay = await startRelay({ delivery: { retrySchedule: '1s' }, smarthost: { host: '127.0.0.1', port: upstream.port, security: 'none' } });
  return { relay, upstream };
}

async function connect(port: number): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port);
  clients.push(c);
  return c;
}

function logOf(r: TestRelay): Promise<string> {
  return fs.readFile(path.join(r.dataDir, 'logs', 'relay.log'), 'utf8');
}

/** Python's email parser on the delivered bytes: its defects, the headers it found and the body. */
async function pythonParse(raw: Buffer): Promise<{ defects: string[]; headers: string[]; body: string }> {
  const script = [
    'import sys, json, email, email.policy',
    'm = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.compat32)',
    'print(json.dumps({"defects": [type(d).__name__ for d in m.defects], "headers": [k.lower() for k in m.keys()], "body": m.get_payload()}))',
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = execFile('python3', ['-c', script], (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout))));
    child.stdin?.end(raw);
  });
}

/** Python's smtplib, as a monitoring script uses it. */
async function pythonSend(port: number, data: string): Promise<void> {
  const script = `import smtplib, sys\ns = smtplib.SMTP("127.0.0.1", ${port})\ns.sendmail("mon@db1.test", ["ops@y.test"], sys.stdin.buffer.read())\ns.quit()`;
  await new Promise<void>((resolve, reject) => {
    const child = execFile('python3', ['-c', script], (err) => (err ? reject(err) : resolve()));
    child.stdin?.end(Buffer.from(data));
  });
}

describe('1. the header section', () => {
  it('bare text from a script stays body text, behind a blank line, with Date, Message-ID and From added', async () => {
    const { relay, upstream } = await relayTo();
    await pythonSend(relay.port, 'Warning: disk full\r\nhost db1\r\n');
    const [m] = await waitFor(() => (upstream.messages.length === 1 ? upstream.messages : null), 10_000, 'delivery');
    const parsed = await pythonParse(m!.raw);
    expect(parsed.defects).toEqual([]);
    expect(parsed.body).toBe('Warning: disk full\r\nhost db1\r\n');
    expect(parsed.headers).toEqual(['received', 'date', 'message-id', 'from']);
    expect(m!.raw.toString()).toMatch(/\r\nMessage-ID: <[^@>]+@relay\.test>\r\nFrom: <mon@db1\.test>\r\n\r\nWarning: disk full/);
  });

  it('headers followed by text without a blank line: the text is the body; fields present are not added twice', async () => {
    const { relay, upstream } = await relayTo();
    const sent = 'Subject: backup\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <x@db1.test>\r\nFrom: <mon@db1.test>\r\nbackup of db1 done\r\n';
    await pythonSend(relay.port, sent);
    const [m] = await waitFor(() => (upstream.messages.length === 1 ? upstream.messages : null), 10_000, 'delivery');
    const parsed = await pythonParse(m!.raw);
    expect(parsed.defects).toEqual([]);
    expect(parsed.body).toBe('backup of db1 done\r\n');
    const raw = m!.raw.toString();
    expect(raw.slice(raw.indexOf('Subject:'))).toBe(sent.replace('\r\nbackup', '\r\n\r\nbackup'));
    expect((await relay.relay.listQueue()).items).toEqual([]);
  });
});

describe('2. a client that leaves mid-DATA', () => {
  it('is an info line, "lost connection after DATA from [addr]", not a disk error', async () => {
    relay = await startRelay({});
    const c = await connect(relay.port);
    await c.envelope('a@b.test', ['c@d.test']);
    expect(await c.command('DATA')).toMatch(/^354/);
    await c.write('Subject: half\r\n\r\nthe first half of a message');
    await waitFor(async () => (await fs.readdir(path.join(relay!.dataDir, 'spool', 'msg'))).length === 1, 5000, 'ingest started');
    c.close();
    const log = await waitFor(async () => /lost connection after DATA/.test(await logOf(relay!)) && logOf(relay!), 5000, 'the log line');
    expect(log).toMatch(/ info lost connection after DATA from \[127\.0\.0\.1\]/);
    expect(log).not.toMatch(/ error /);
  });
});

describe('3. a silent upstream', () => {
  it('shows in status as stalled, with where and in which phase, and is cut off at that phase\'s limit', async () => {
    upstream = await startUpstream({ starttls: 'disabled', dataReplyDelayMs: 8000 });
    relay = await startRelay(
      { delivery: { retrySchedule: '1m' }, smarthost: { host: '127.0.0.1', port: upstream.port, security: 'none' } },
      { makeTransport: (c, p) => new SmarthostTransport(c, p, { phases: { 'end-of-data': 3000 } }), stalledAfterMs: 500 },
    );
    const c = await connect(relay.port);
    await c.envelope('a@x.test', ['b@y.test']);
    await c.command('DATA');
    expect(await c.command('Subject: x\r\n\r\nbody\r\n.')).toMatch(/^250 /);
    const started = Date.now();
    const stalled = await waitFor(async () => (await relay!.relay.getStatus()).stalled, 5000, 'a stalled delivery');
    expect(stalled).toMatchObject({ destination: `127.0.0.1:${upstream.port}`, phase: 'end-of-data' });
    expect(stalled.message).toMatch(new RegExp(`^127\\.0\\.0\\.1:${upstream.port} has not answered for \\d+ s after the end of data$`));
    // Cut at the 3 s limit, long before the upstream's 8 s: deferred as "may have been delivered".
    const status = await waitFor(async () => { const s = await relay!.relay.getStatus(); return s.deferred === 1 && s.sending === 0 ? s : null; }, 6000, 'the attempt ended');
    expect(Date.now() - started).toBeLessThan(7000);
    expect(status.stalled).toBeNull();
    const [item] = (await relay.relay.listQueue()).items;
    expect(item?.recipients[0]?.lastReply).toMatch(/timed out: 127\.0\.0\.1:\d+ has not answered for \d+ s after the end of data \(limit 3 s, RFC 5321 §4\.5\.3\.2\)/);
    expect(await logOf(relay)).toMatch(/lost after the end of data: message may be sent more than once/);
  });
});

describe('4. 8BITMIME and SMTPUTF8', () => {
  const body = 'Subject: Grüße\r\n\r\nÜmlaute, 日本語\r\n';

  async function sendUtf8(port: number, from: string, to: string, params: string): Promise<string> {
    const c = await connect(port);
    const replies = await c.envelope(from, [to], params);
    expect(replies.slice(2)).toEqual([expect.stringMatching(/^250/), expect.stringMatching(/^250/)]);
    await c.command('DATA');
    return c.command(`${body}.`);
  }

  it('are passed upstream with the message, which arrives intact', async () => {
    const { relay, upstream } = await relayTo();
    expect(await sendUtf8(relay.port, 'jörg@x.test', 'zoë@y.test', ' BODY=8BITMIME SMTPUTF8')).toMatch(/^250 /);
    const [m] = await waitFor(() => (upstream.messages.length === 1 ? upstream.messages : null), 10_000, 'delivery');
    expect(m!.to).toEqual(['zoë@y.test']);
    expect(m!.raw.toString('utf8')).toMatch(/\r\nSubject: Grüße\r\n(?:[A-Za-z-]+: [^\r\n]+\r\n)*\r\nÜmlaute, 日本語\r\n$/);
    const mail = upstream.commands.find((l) => l.startsWith('MAIL FROM'));
    expect(mail).toMatch(/^MAIL FROM:<jörg@x\.test> .*/);
    expect(mail?.split(' ').slice(2).sort()).toEqual(expect.arrayContaining(['BODY=8BITMIME', 'SMTPUTF8']));
  });

  it('8-bit content without BODY=8BITMIME still goes with BODY=8BITMIME', async () => {
    const { relay, upstream } = await relayTo();
    expect(await sendUtf8(relay.port, 'app@x.test', 'ops@y.test', '')).toMatch(/^250 /);
    await waitFor(() => upstream.messages.length === 1, 10_000, 'delivery');
    expect(upstream.commands.find((l) => l.startsWith('MAIL FROM'))).toMatch(/ BODY=8BITMIME/);
  });

  it('an upstream without them: a UTF-8 address is never offered to it (5.6.7), 8-bit content is returned (5.6.3)', async () => {
    const { relay, upstream } = await relayTo({ hide: ['8BITMIME', 'SMTPUTF8'] });
    await sendUtf8(relay.port, '', 'zoë@y.test', ' SMTPUTF8');
    await sendUtf8(relay.port, '', 'ops@y.test', ' BODY=8BITMIME');
    const items = await waitFor(async () => { const q = await relay.relay.listQueue(); return q.items.length === 2 && q.items.every((i) => i.status === 'failed') ? q.items : null; }, 10_000, 'both failed');
    expect(items[0]?.recipients[0]?.lastReply).toMatch(/^5\.6\.7 SMTPUTF8 is required for <zoë@y\.test>, but was not offered by host 127\.0\.0\.1/);
    expect(items[1]?.recipients[0]?.lastReply).toMatch(/^5\.6\.3 the message has 8-bit content, but host .* does not offer 8BITMIME/);
    expect(upstream.messages).toEqual([]);
    expect(upstream.commands.filter((l) => /^(MAIL|RCPT)/.test(l))).toEqual([]);
  });

  it('a queue written before the flags existed (spool format 1, state v1) is read and delivered', async () => {
    const dataDir = await tempDataDir();
    upstream = await startUpstream({ starttls: 'disabled' });
    const config = { delivery: { retrySchedule: '1s' }, smarthost: { host: '127.0.0.1', port: upstream.port, security: 'none' as const } };
    relay = await startRelay(config, { dataDir });
    await relay.relay.pause();
    expect(await sendUtf8(relay.port, 'app@x.test', 'ops@y.test', ' BODY=8BITMIME')).toMatch(/^250 /);
    await relay.stop();
    // What the previous release wrote: format 1, and state files without the new fields.
    const spool = path.join(dataDir, 'spool');
    await fs.writeFile(path.join(spool, 'format.json'), '{"format":1}\n');
    const bucket = (await fs.readdir(path.join(spool, 'q')))[0] as string;
    const [name] = await fs.readdir(path.join(spool, 'q', bucket));
    const file = path.join(spool, 'q', bucket, name as string);
    const state = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
    expect(state).toMatchObject({ v: 2, eightBit: true });
    delete state.eightBit;
    await fs.writeFile(file, JSON.stringify({ ...state, v: 1 }));
    relay = await startRelay(config, { dataDir });
    const [m] = await waitFor(() => (upstream!.messages.length === 1 ? upstream!.messages : null), 10_000, 'delivery');
    expect(m!.raw.toString('utf8')).toMatch(/\r\nSubject: Grüße\r\n(?:[A-Za-z-]+: [^\r\n]+\r\n)*\r\nÜmlaute, 日本語\r\n$/);
    expect(JSON.parse(await fs.readFile(path.join(spool, 'format.json'), 'utf8'))).toEqual({ format: 2 });
  });
});

describe('5. damaged queue entries', () => {
  it('content cut short or gone: an error line, counted as corrupt, a bounce to the sender; a torn state file: an error line', async () => {
    const dataDir = await tempDataDir();
    upstream = await startUpstream({ starttls: 'disabled' });
    const config = { delivery: { retrySchedule: '1s' }, smarthost: { host: '127.0.0.1', port: upstream.port, security: 'none' as const } };
    relay = await startRelay(config, { dataDir });
    await relay.relay.pause();
    const ids: string[] = [];
    for (const from of ['app@x.test', 'other@x.test', 'third@x.test']) {
      const c = await connect(relay.port);
      await c.envelope(from, ['b@y.test']);
      await c.command('DATA');
      ids.push((await c.command(`Subject: report from ${from}\r\n\r\n${'line\r\n'.repeat(100)}.`)).split(' ').at(-1) as string);
    }
    await relay.stop();
    const spool = path.join(dataDir, 'spool');
    const content = path.join(spool, 'msg', `${ids[0]}.eml`);
    const cut = (await fs.stat(content)).size - 300;
    await fs.truncate(content, cut); // a disk that lied about fsync: the headers survive, the body is cut
    const bucket = (await fs.readdir(path.join(spool, 'q')))[0] as string;
    const torn = (await fs.readdir(path.join(spool, 'q', bucket))).find((n) => n.includes(ids[1] as string)) as string;
    await fs.writeFile(path.join(spool, 'q', bucket, torn), '{"v":1,"id":');
    await fs.rm(path.join(spool, 'msg', `${ids[2]}.eml`)); // found by the recovery at start-up
    relay = await startRelay(config, { dataDir });
    const status = await waitFor(async () => { const s = await relay!.relay.getStatus(); return s.corrupt === 3 && s.queued === 0 ? s : null; }, 10_000, 'all three moved aside, the bounces sent');
    expect(status.failed).toBe(0);
    const log = await logOf(relay);
    expect(log).toMatch(new RegExp(`error id=${ids[0]} moved to corrupt/: the message content \\(msg/${ids[0]}\\.eml\\) is ${cut} bytes`));
    expect(log).toMatch(new RegExp(`error id=${ids[1]} moved to corrupt/: state file is not valid JSON`));
    expect(log).toMatch(new RegExp(`error id=${ids[2]} moved to corrupt/: the message content \\(msg/${ids[2]}\\.eml\\) is missing`));
    const bounces = await waitFor(() => (upstream!.messages.length === 2 ? upstream!.messages : null), 10_000, 'the bounces');
    expect(bounces.map((b) => b.to[0]).sort()).toEqual(['app@x.test', 'third@x.test']);
    const bounce = bounces.find((b) => b.to[0] === 'app@x.test');
    expect(bounce?.from).toBe('');
    expect(bounce!.raw.toString()).toMatch(/Status: 5\.3\.0[\s\S]*damaged in the relay's queue[\s\S]*Subject: report from app@x\.test/);
    await new Promise((r) => setTimeout(r, 500));
    expect(upstream.messages).toHaveLength(2); // nothing for the torn one: its sender is unknown
  });
});

describe('6. control characters from an upstream', () => {
  /** An upstream that answers RCPT with exactly these bytes (smtp-server would tidy them). */
  async function rawUpstream(rcptReply: Buffer): Promise<{ port: number; close(): void }> {
    const server = net.createServer((socket) => {
      let buffer = '';
      let inData = false;
      socket.write('220 raw.test ESMTP\r\n');
      socket.on('data', (d: Buffer) => {
        buffer += d.toString('latin1');
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
          const line = buffer.slice(0, nl).replace(/\r$/, '');
          buffer = buffer.slice(nl + 1);
          if (inData) {
            if (line === '.') { inData = false; socket.write('250 ok\r\n'); }
            continue;
          }
          const verb = line.slice(0, 4).toUpperCase();
          if (verb === 'EHLO') socket.write('250 raw.test\r\n');
          else if (verb === 'RCPT' && line.includes('c@d.test')) socket.write(Buffer.concat([Buffer.from('550 '), rcptReply, Buffer.from('\r\n')]));
          else if (verb === 'DATA') { inData = true; socket.write('354 go\r\n'); }
          else if (verb === 'QUIT') socket.end('221 bye\r\n');
          else socket.write('250 ok\r\n');
        }
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
  }

  it('reach neither the log file nor lastError raw: every one is escaped', async () => {
    const evil = Buffer.from('5.1.1 no such user\x1b[2J\x1b]0;pwned\x07 \x00\x08\x7f \u202egnp.exe', 'utf8');
    const up = await rawUpstream(evil);
    try {
      relay = await startRelay({ delivery: { retrySchedule: '1s' }, smarthost: { host: '127.0.0.1', port: up.port, security: 'none' } });
      const c = await connect(relay.port);
      await c.envelope('', ['c@d.test']);
      await c.command('DATA');
      expect(await c.command('Subject: x\r\n\r\nbody\r\n.')).toMatch(/^250 /);
      const status = await waitFor(async () => { const s = await relay!.relay.getStatus(); return s.failed === 1 ? s : null; }, 10_000, 'the failure');
      const log = await logOf(relay);
      // Only line ends in the file; nothing a terminal would act on.
      expect(log.replaceAll('\n', '')).not.toMatch(/[\p{Cc}\u202e]/u);
      expect(log).toContain('no such user\\x1b[2J\\x1b]0;pwned\\x07 \\x00\\x08\\x7f \\u202egnp.exe');
      // The queue is empty again, so status no longer carries a lastError; the failed message's reply does.
      expect(status.queued).toBe(0);
      const [item] = (await relay.relay.listQueue()).items;
      expect(item?.recipients[0]?.lastReply).not.toMatch(/[\p{Cc}\u202e]/u);
      expect(item?.recipients[0]?.lastReply).toContain('\\x1b[2J');
    } finally {
      up.close();
    }
  });
});

describe('7. recipients', () => {
  it('differing in the case of the local part stay two; exact repeats (domain in any case) are one', async () => {
    const { relay, upstream } = await relayTo({ replies: { rcpt: { 'B@y.test': { code: 550, message: '5.1.1 B is not b' } } } });
    const c = await connect(relay.port);
    const replies = await c.envelope('a@x.test', ['B@y.test', 'b@y.test', 'b@Y.TEST', 'B@y.test']);
    expect(replies.slice(2)).toEqual(replies.slice(2).map(() => expect.stringMatching(/^250/)));
    await c.command('DATA');
    expect(await c.command('Subject: x\r\n\r\nbody\r\n.')).toMatch(/^250 /);
    const [m] = await waitFor(() => (upstream.messages.length >= 1 ? upstream.messages : null), 10_000, 'delivery');
    expect(m!.to).toEqual(['b@y.test']);
    expect(upstream.commands.filter((l) => l.startsWith('RCPT')).slice(0, 2)).toEqual(['RCPT TO:<B@y.test>', 'RCPT TO:<b@y.test>']);
    const [failed] = await waitFor(async () => { const q = await relay.relay.listQueue(); return q.items.length === 1 && q.items[0]?.status === 'failed' ? q.items : null; }, 10_000, 'B failed');
    expect(failed!.recipients.map((r) => [r.address, r.status])).toEqual([['B@y.test', 'failed'], ['b@y.test', 'sent']]);
  });
});

describe('8. the header scan', () => {
  /**
   * CPU time of scanning `size` bytes of header fields handed over in 32-byte chunks: the best of 7, so
   * that a GC or another thread of this process landing in one run does not count (best of 3 once gave
   * 9.9x in a full CI run).
   */
  function scanCost(size: number): number {
    const line = `X-Filler: ${'a'.repeat(52)}\r\n`;
    const data = Buffer.from(line.repeat(Math.ceil(size / line.length)).slice(0, size));
    let best = Infinity;
    for (let run = 0; run < 7; run++) {
      const before = process.cpuUsage();
      const h = new HeaderSection({ date: new Date(), messageId: 'x@y', from: '' });
      for (let i = 0; i < data.length; i += 32) h.push(data.subarray(i, i + 32));
      h.end();
      const used = process.cpuUsage(before);
      best = Math.min(best, used.user + used.system);
    }
    return best;
  }

  it('costs in proportion to the header size, whatever the chunking (4x the headers: well under 16x the time)', () => {
    scanCost(64 * 1024); // compiled and warm before either is timed
    const small = scanCost(64 * 1024);
    const large = scanCost(256 * 1024);
    expect(large / Math.max(small, 1)).toBeLessThan(8);
  });

  it('256 KB of headers in small network reads still arrive intact, the Subject found', async () => {
    const { relay, upstream } = await relayTo();
    const c = await connect(relay.port);
    await c.envelope('a@x.test', ['b@y.test']);
    await c.command('DATA');
    const filler = `X-Filler: ${'a'.repeat(52)}\r\n`.repeat(4000);
    const content = `${filler}Subject: found\r\n\r\nbody\r\n`;
    for (let i = 0; i < content.length; i += 1024) {
      await c.write(content.slice(i, i + 1024));
      if (i % (64 * 1024) === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await relay.relay.pause();
    expect(await c.command('.')).toMatch(/^250 /);
    const [item] = (await relay.relay.listQueue()).items;
    expect(item?.subject).toBe('found');
    await relay.relay.resume();
    const [m] = await waitFor(() => (upstream.messages.length === 1 ? upstream.messages : null), 10_000, 'delivery');
    const raw = m!.raw.toString();
    expect(raw).toContain(`${filler}Subject: found\r\nDate: `);
    expect(raw.endsWith('\r\n\r\nbody\r\n')).toBe(true);
  });
});

describe('9. queue list', () => {
  it('--limit N gives the N oldest, failed ones included, whatever directory they are in', async () => {
    const { relay } = await relayTo({ replies: { rcpt: { 'gone@y.test': { code: 550, message: '5.1.1 gone' } } } });
    const ids: string[] = [];
    const send = async (to: string) => {
      const c = await connect(relay.port);
      await c.envelope('', [to]);
      await c.command('DATA');
      const reply = await c.command(`Subject: ${to}\r\n\r\nbody\r\n.`);
      ids.push(reply.split(' ').at(-1) as string);
      c.close();
    };
    for (let i = 0; i < 3; i++) await send('gone@y.test');
    await waitFor(async () => (await relay.relay.getStatus()).failed === 3, 10_000, 'three failed');
    await relay.relay.pause();
    for (let i = 0; i < 12; i++) await send(`later${i}@y.test`);
    const { items, total } = await relay.relay.listQueue({ limit: 5 });
    expect(total).toBe(15);
    expect(items.map((i) => i.id)).toEqual(ids.slice(0, 5));
    expect(items.map((i) => i.status)).toEqual(['failed', 'failed', 'failed', 'queued', 'queued']);
    const next = await relay.relay.listQueue({ offset: 5, limit: 4 });
    expect(next.items.map((i) => i.id)).toEqual(ids.slice(5, 9));
  });
});
