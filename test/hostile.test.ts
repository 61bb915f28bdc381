// Hostile input over raw sockets on loopback (issue 4; reference mta-reliability-anchors.md §3-§5,
// test cases 20-33): SMTP smuggling in both directions, relay control, and resource limits.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../src/config/schema.js';
import { parseConfig } from '../src/config/schema.js';
import { LineEndings } from '../src/receive/line-endings.js';
import { Random } from './support/random.js';
import { RawSmtp } from './support/raw-smtp.js';
import { startRelay, waitFor, type TestRelay } from './support/relay.js';
import { startUpstream, type Upstream } from './support/upstream.js';
import { startWireTap, type WireTap } from './support/wire-tap.js';

let relay: TestRelay | null = null;
let upstream: Upstream | null = null;
let tap: WireTap | null = null;
const clients: RawSmtp[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await relay?.stop();
  await tap?.stop();
  await upstream?.stop();
  relay = null;
  tap = null;
  upstream = null;
});

async function connect(port: number, localAddress?: string): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port, '127.0.0.1', localAddress);
  clients.push(c);
  return c;
}

/** A relay forwarding to a recording upstream through a tap that keeps the exact bytes on the wire. */
async function relayToUpstream(listen: ConfigInput['listen'] = {}): Promise<{ relay: TestRelay; upstream: Upstream; tap: WireTap }> {
  upstream = await startUpstream({ starttls: 'disabled' });
  tap = await startWireTap(upstream.port);
  relay = await startRelay({ listen, delivery: { retrySchedule: '1s' }, smarthost: { host: '127.0.0.1', port: tap.port, security: 'none' } });
  return { relay, upstream, tap };
}

/** DATA, the content as given, then the real end of data; returns the reply to the final dot. */
async function sendData(c: RawSmtp, content: string | Buffer): Promise<string> {
  expect(await c.command('DATA')).toMatch(/^354/);
  await c.write(content);
  await c.write('.\r\n');
  return c.reply();
}

/** Offsets of every CR without its LF, LF without its CR, and NUL. */
function strayBytes(buf: Buffer): number[] {
  return [...buf.toString('latin1').matchAll(/\r(?!\n)|(?<!\r)\n|\0/g)].map((m) => m.index);
}

/** What the relay promises to store, written independently of its streaming code: LF -> CRLF, lone CR and NUL dropped. */
function normalised(text: string): string {
  return text.replace(/\r\n|\n|\r|\0/g, (m) => (m === '\r' || m === '\0' ? '' : '\r\n'));
}

/** The message as sent: without the Date, Message-ID and From the relay adds to a header section that lacks them. */
function withoutAdded(text: string): string {
  return text.replace(/(?:Date: [^\r\n]*\r\n)?Message-ID: <[0-9a-z]{16}@relay\.test>\r\n(?:From: <[^>]*>\r\n)?/, '');
}

function count(haystack: Buffer, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) n++;
  return n;
}

// §3.2: SEC Consult's inbound and outbound sequences and hannob/smtpsmug's, each once.
const SMUGGLING: Record<string, string> = {
  'LF.LF': '\n.\n', 'LF.CR': '\n.\r', 'CR.LF': '\r.\n', 'CR.CR': '\r.\r', 'LF.CRLF': '\n.\r\n', 'CR.CRLF': '\r.\r\n',
  'CRLF NUL.CRLF': '\r\n\x00.\r\n', 'CRLF.CRCRLF': '\r\n.\r\r\n', 'CRCRLF.CRCRLF': '\r\r\n.\r\r\n', 'CRLF.LF': '\r\n.\n',
  'CRLF.CR': '\r\n.\r',
};

/** A message whose body hides a second transaction behind a fake end of data. */
function smuggler(name: string): string {
  return `From: <app@app.test>\r\nSubject: smuggling ${name}\r\n\r\nfirst message${SMUGGLING[name]}` +
    'MAIL FROM:<evil@attacker.test>\r\nRCPT TO:<victim@target.test>\r\nDATA\r\n' +
    'From: <ceo@target.test>\r\nSubject: smuggled\r\n\r\nsmuggled body\r\n';
}

describe('smuggling: bare CR, bare LF and NUL never pass', () => {
  it('the normaliser matches its definition however the data is split into chunks', () => {
    const rnd = new Random(4242);
    for (let round = 0; round < 2000; round++) {
      const text = Array.from({ length: rnd.int(0, 60) }, () => rnd.pick(['a', '.', '\r', '\n', '\r\n', '\0'])).join('');
      const input = Buffer.from(text, 'latin1');
      const le = new LineEndings();
      const out: Buffer[] = [];
      for (let at = 0; at < input.length;) {
        const next = Math.min(input.length, at + rnd.int(1, 5));
        out.push(le.push(input.subarray(at, next)));
        at = next;
      }
      le.end();
      const expected = normalised(text);
      expect(Buffer.concat(out).toString('latin1'), JSON.stringify(text)).toBe(expected);
      expect(le.found, JSON.stringify(text)).toBe(expected !== text);
    }
  });

  it('normalize (default): each §3.2 sequence stays one message; nothing lone reaches the smarthost; no second message', async () => {
    const { relay, upstream, tap } = await relayToUpstream();
    const names = Object.keys(SMUGGLING);
    for (const name of names) {
      const c = await connect(relay.port);
      await c.envelope('app@app.test', ['dev@target.test']);
      expect(await sendData(c, smuggler(name)), name).toMatch(/^250 2\.0\.0 Ok: queued as /);
      // Had the fake end of data ended the message, the smuggled MAIL would make this one "nested".
      expect(await c.command('MAIL FROM:<next@app.test>'), name).toMatch(/^250/);
      c.close();
    }
    await waitFor(() => upstream.messages.length >= names.length, 15_000, 'deliveries');
    await waitFor(async () => (await relay.relay.getStatus()).queued === 0, 5000, 'empty queue');
    await new Promise((r) => setTimeout(r, 500)); // a smuggled extra would arrive by now

    expect(upstream.messages.length).toBe(names.length);
    expect(upstream.commands.filter((l) => /^MAIL FROM/i.test(l))).toEqual(names.map(() => 'MAIL FROM:<app@app.test>'));
    expect(upstream.commands.some((l) => /evil|victim/.test(l))).toBe(false);
    for (const name of names) {
      const got = upstream.messages.find((m) => m.raw.includes(`Subject: smuggling ${name}\r\n`));
      expect(got, name).toBeDefined();
      const raw = got!.raw;
      expect(strayBytes(raw), name).toEqual([]);
      // Stored and sent exactly as the rule says: the smuggled text is just content of the first message.
      expect(withoutAdded(raw.subarray(raw.indexOf('From: <app@app.test>')).toString('latin1')), name).toBe(normalised(smuggler(name)));
    }
    // On the wire to the smarthost: no lone CR, LF or NUL at all, and one end-of-data per message
    // (a content line "." went out dot-stuffed as "..").
    const wire = tap.sent();
    expect(strayBytes(wire)).toEqual([]);
    expect(count(wire, '\r\n.\r\n')).toBe(names.length);
    expect(count(wire, '\r\n..\r\n')).toBeGreaterThan(0);
  });

  it('reject: each §3.2 sequence gets 550 5.6.0 after the real end of data; nothing is queued or sent', async () => {
    const { relay, upstream } = await relayToUpstream({ bareLineEndings: 'reject' });
    const c = await connect(relay.port);
    await c.reply();
    await c.command('EHLO app.test');
    for (const name of Object.keys(SMUGGLING)) {
      expect(await c.command('MAIL FROM:<app@app.test>')).toMatch(/^250/);
      expect(await c.command('RCPT TO:<dev@target.test>')).toMatch(/^250/);
      expect(await sendData(c, smuggler(name)), name).toMatch(/^550 5\.6\.0 .*bare CR or LF/);
    }
    // The session is still in step (no smuggled command ran), and clean mail still goes through.
    expect(await c.command('MAIL FROM:<app@app.test>')).toMatch(/^250/);
    expect(await c.command('RCPT TO:<dev@target.test>')).toMatch(/^250/);
    expect(await sendData(c, 'Subject: clean\r\n\r\nclean body\r\n')).toMatch(/^250 /);
    await waitFor(() => upstream.messages.length === 1, 10_000, 'the clean message');
    await waitFor(async () => (await relay.relay.getStatus()).queued === 0, 5000, 'empty queue');
    expect(upstream.messages[0]!.raw.toString()).toContain('clean body');
    // The delivered message's content is removed in the background after delivery; nothing else stays.
    await waitFor(() => fs.readdirSync(`${relay.dataDir}/spool/msg`).length === 0, 5000, 'the spool to hold no content');
    const log = fs.readFileSync(`${relay.dataDir}/logs/relay.log`, 'utf8');
    expect(log).toMatch(/reject: message from \[127\.0\.0\.1\] contains a bare CR, bare LF or NUL/);
  });

  it('a 10 kB body line and 8-bit text are forwarded intact; control characters and invalid UTF-8 in the envelope are refused', async () => {
    const { relay, upstream } = await relayToUpstream();
    const c = await connect(relay.port);
    await c.envelope('app@app.test', ['dev@target.test']);
    const long = 'x'.repeat(10_000);
    const body = `Subject: long line\r\n\r\n${long}\r\nÜmlaut\r\n`;
    expect(await sendData(c, Buffer.from(body, 'latin1'))).toMatch(/^250 /);
    await waitFor(() => upstream.messages.length === 1, 10_000, 'delivery');
    const raw = upstream.messages[0]!.raw;
    expect(withoutAdded(raw.subarray(raw.indexOf('Subject: long line')).toString('latin1'))).toBe(body);
    // Control characters in the envelope (case 33): never passed on.
    expect(await c.command('MAIL FROM:<a\rb@app.test>')).toMatch(/^501/);
    expect(await c.command('MAIL FROM:<a\x00b@app.test>')).toMatch(/^501/);
    expect(await c.command('MAIL FROM:<a@app.test> ENVID=ab+0D+0ARCPT')).toMatch(/^501/);
    // Bytes that are not UTF-8 in an address (smtp-server turns them into U+FFFD): refused, not passed on mangled.
    const latin1 = async (line: string) => { c.socket.write(Buffer.from(`${line}\r\n`, 'latin1')); return c.reply(); };
    expect(await latin1('MAIL FROM:<app@t\xe4rget.test>')).toMatch(/^553 5\.1\.7 .*not valid UTF-8/);
    expect(await c.command('MAIL FROM:<app@app.test>')).toMatch(/^250/);
    expect(await latin1('RCPT TO:<dev@t\xe4rget.test>')).toMatch(/^553 5\.1\.3 .*not valid UTF-8/);
    expect(await c.command('RCPT TO:<dév@tärget.test>')).toMatch(/^250/); // real UTF-8 is fine
  });
});

// nmap's smtp-open-relay probes (16 MAIL/RCPT pairs), with srvname "relay.test" and ip 127.0.0.1.
const DOMAIN = 'target.example';
const NMAP_PROBES: [from: string, to: string][] = [
  ['', `relaytest@${DOMAIN}`], [`antispam@${DOMAIN}`, `relaytest@${DOMAIN}`], ['antispam@relay.test', `relaytest@${DOMAIN}`],
  ['antispam@[127.0.0.1]', `relaytest@${DOMAIN}`],
  ...[
    `relaytest%${DOMAIN}@[127.0.0.1]`, `relaytest%${DOMAIN}@relay.test`, `"relaytest@${DOMAIN}"`, `"relaytest%${DOMAIN}"`,
    `relaytest@${DOMAIN}@[127.0.0.1]`, `"relaytest@${DOMAIN}"@[127.0.0.1]`, `relaytest@${DOMAIN}@relay.test`,
    `@[127.0.0.1]:relaytest@${DOMAIN}`, `@relay.test:relaytest@${DOMAIN}`, `${DOMAIN}!relaytest`,
    `${DOMAIN}!relaytest@[127.0.0.1]`, `${DOMAIN}!relaytest@relay.test`,
  ].map((to): [string, string] => ['antispam@[127.0.0.1]', to]),
];

describe('relay control', () => {
  it('nmap probes from a client outside allowedClients: 554 at connect, no RCPT ever answered', async () => {
    relay = await startRelay({ listen: { allowedClients: ['127.0.0.1/32'] } });
    for (const [from, to] of NMAP_PROBES) {
      const c = await connect(relay.port, '127.0.0.2');
      expect(await c.reply()).toMatch(/^554 5\.7\.1 .*\[127\.0\.0\.2\] is not an allowed client/);
      c.socket.write(`EHLO x\r\nMAIL FROM:<${from}>\r\nRCPT TO:<${to}>\r\n`);
      expect(await c.reply()).toBe(''); // closed: nothing more is answered
    }
  });

  it('nmap probes from an allowed client: every address trick is refused (553, or 501 for what smtp-server cannot parse)', async () => {
    relay = await startRelay({});
    const c = await connect(relay.port);
    await c.reply();
    await c.command('EHLO target.example');
    const replies: string[] = [];
    for (const [from, to] of NMAP_PROBES) {
      expect(await c.command('RSET')).toMatch(/^250/);
      expect(await c.command(`MAIL FROM:<${from}>`)).toMatch(/^250/);
      replies.push(await c.command(`RCPT TO:<${to}>`));
    }
    // The four plain recipients are what an allowed application is for; all twelve tricks are refused.
    expect(replies.slice(0, 4)).toEqual(Array(4).fill(expect.stringMatching(/^250/)));
    const tricks = NMAP_PROBES.slice(4).map(([, to], i) => [to, replies[i + 4]]);
    for (const [to, reply] of tricks) expect(reply, to).toMatch(/^5(53 5\.7\.1|01) /);
    expect(Object.fromEntries(tricks.filter(([, r]) => r!.startsWith('553')))).toEqual({
      [`relaytest%${DOMAIN}@[127.0.0.1]`]: expect.stringMatching(/percent hack/),
      [`relaytest%${DOMAIN}@relay.test`]: expect.stringMatching(/percent hack/),
      [`@[127.0.0.1]:relaytest@${DOMAIN}`]: expect.stringMatching(/source routes/),
      [`@relay.test:relaytest@${DOMAIN}`]: expect.stringMatching(/source routes/),
      [`${DOMAIN}!relaytest@[127.0.0.1]`]: expect.stringMatching(/bang path/),
      [`${DOMAIN}!relaytest@relay.test`]: expect.stringMatching(/bang path/),
    });
  });

  it('refuses the remaining tricks with 553 for an allowed client: private domain literals, bare postmaster; a public literal passes', async () => {
    const { relay, upstream } = await relayToUpstream();
    const c = await connect(relay.port);
    await c.envelope('app@app.test', []);
    const cases: [string, RegExp][] = [
      ['user@[10.1.2.3]', /^553 5\.7\.1 .*private or reserved address \(\[10\.1\.2\.3\]\)/],
      ['user@[192.168.1.1]', /^553 5\.7\.1 /],
      ['user@[IPv6:fe80::1]', /^553 5\.7\.1 /],
      ['user@[IPv6:::ffff:127.0.0.1]', /^553 5\.7\.1 /],
      ['postmaster', /^553 5\.1\.3 .*needs a domain/],
      ['"a%b"@target.example', /^553 5\.7\.1 .*percent hack/],
      ['a!b@target.example', /^553 5\.7\.1 .*bang path/],
      ['user@[8.8.8.8]', /^250/],
      ['dev@target.example', /^250/],
    ];
    for (const [to, expected] of cases) expect(await c.command(`RCPT TO:<${to}>`), to).toMatch(expected);
    expect(await sendData(c, 'Subject: tricks\r\n\r\nbody\r\n')).toMatch(/^250 /);
    await waitFor(() => upstream.messages.length === 1, 10_000, 'delivery');
    expect(upstream.messages[0]!.to).toEqual(['user@[8.8.8.8]', 'dev@target.example']);
    expect(upstream.commands.filter((l) => /^RCPT/i.test(l))).toEqual(['RCPT TO:<user@[8.8.8.8]>', 'RCPT TO:<dev@target.example>']);
  });

  it('the real nmap smtp-open-relay script: no relay from outside; from an allowed client only the plain recipient', async () => {
    const nmap = (port: number) => promisify(execFile)('nmap', [
      '-sT', '-Pn', '-n', '-vv', '-p', String(port), '--script', '+smtp-open-relay', // +: whatever the port number
      '--script-args', `smtp-open-relay.domain=${DOMAIN},smtp-open-relay.ip=127.0.0.1`, '127.0.0.1',
    ], { timeout: 60_000 }).then((r) => r.stdout, (e: Error & { code?: string }) => {
      throw new Error(e.code === 'ENOENT' ? 'nmap is not installed (apt-get install nmap)' : e.message);
    });
    relay = await startRelay({ listen: { allowedClients: ['10.0.0.0/8'] } });
    const outside = await nmap(relay.port);
    expect(outside).toMatch(/smtp-open-relay: /);
    expect(outside).not.toMatch(/is an open relay/);
    await relay.stop();
    relay = await startRelay({});
    const inside = await nmap(relay.port);
    const relayed = [...inside.matchAll(/MAIL FROM:<([^>]*)> -> RCPT TO:<([^>]*)>/g)].map((m) => m[2]);
    expect(relayed.length).toBeGreaterThan(0);
    expect(new Set(relayed)).toEqual(new Set([`relaytest@${DOMAIN}`]));
  });

  it('listening on all interfaces without narrowing allowedClients is refused at config time, with the reason', () => {
    const open: [string, string][] = [['0.0.0.0', '0.0.0.0/0'], ['::', '::/0'], ['0.0.0.0', '8.0.0.0/7'], ['192.168.1.5', '0.0.0.0/1']];
    for (const [host, range] of open) {
      expect(() => parseConfig({ listen: { host, allowedClients: ['127.0.0.0/8', range] } }), `${host} ${range}`)
        .toThrow(new RegExp(`listen\\.allowedClients\\[1\\]: "${range.replace(/\./g, '\\.')}" would let computers anywhere on the Internet send mail through this relay \\(an open relay\\)`));
    }
    const fine: [string, string[]][] = [
      ['0.0.0.0', ['127.0.0.0/8']], ['0.0.0.0', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']],
      ['::', ['203.0.113.7', '198.51.100.0/24', '2001:db8:1::/48']], ['127.0.0.1', ['0.0.0.0/0']],
    ];
    for (const [host, allowedClients] of fine) expect(parseConfig({ listen: { host, allowedClients } }).listen.allowedClients).toEqual(allowedClients);
  });

  it('a listener on 0.0.0.0 with the default allowedClients refuses a LAN address at connect', async () => {
    const lan = Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (!lan) throw new Error('this test needs a non-loopback IPv4 address on this machine (any network interface)');
    relay = await startRelay({ listen: { host: '0.0.0.0' } });
    const c = await RawSmtp.connect(relay.port, lan);
    clients.push(c);
    expect(await c.reply()).toMatch(new RegExp(`^554 5\\.7\\.1 .*\\[${lan.replace(/\./g, '\\.')}\\] is not an allowed client`));
  });
});

/** Open descriptors of this process (Linux). */
function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

describe('resource limits', () => {
  it('200 slow connections: 421 beyond the caps, another address still served, tricklers cut at maxSessionTime, nothing leaked', async () => {
    relay = await startRelay({ listen: { maxClients: 50, maxConnectionsPerClient: 20, maxSessionTime: '3s' } });
    const fdsBefore = openFds();
    const connecting = Date.now(); // each session's clock starts once it is connected, after this
    const flood = await Promise.all(Array.from({ length: 200 }, () => connect(relay!.port, '127.0.0.2')));
    const greetings = await Promise.all(flood.map((c) => c.reply()));
    const held = flood.filter((_, i) => greetings[i]!.startsWith('220'));
    expect(held.length).toBe(20);
    expect(greetings.filter((g) => !g.startsWith('220')).every((g) => g.startsWith('421 '))).toBe(true);
    expect(greetings).toContainEqual(expect.stringMatching(/^421 4\.7\.0 .*too many connections from \[127\.0\.0\.2\]/));

    // One byte each every 500 ms: the idle timeout never fires, only the session deadline does.
    const greeted = Date.now(); // every session started before this
    const trickle = setInterval(() => { for (const c of held) if (!c.closed) c.socket.write('N'); }, 500);
    try {
      const other = await connect(relay.port, '127.0.0.3');
      expect(await other.envelope('app@app.test', ['dev@target.test'])).toEqual(['220', '250', '250', '250'].map((c) => expect.stringMatching(`^${c}`)));
      expect(await sendData(other, 'Subject: still served\r\n\r\nbody\r\n')).toMatch(/^250 /);
      const cut = await Promise.all(held.map((c) => c.reply(8000)));
      expect(cut).toEqual(Array(20).fill(expect.stringMatching(/^421 4\.4\.2 .*session time limit exceeded/)));
      expect(Date.now() - connecting).toBeGreaterThanOrEqual(3000);
      expect(Date.now() - greeted).toBeLessThan(6000);
      await waitFor(() => held.every((c) => c.closed), 5000, 'cut connections closed');
    } finally {
      clearInterval(trickle);
    }
    for (const c of clients.splice(0)) c.close();
    await waitFor(() => openFds() <= fdsBefore + 2, 5000, 'descriptors back to where they were');
    const log = fs.readFileSync(`${relay.dataDir}/logs/relay.log`, 'utf8');
    expect(log).toMatch(/disconnect: \[127\.0\.0\.2\] reached the session time limit/);
  });

  it('20 KiB commands get 421 and the connection closes (with or without a line end); 600 bytes are parsed normally', async () => {
    relay = await startRelay({});
    for (const ending of ['\r\n', '']) {
      const c = await connect(relay.port);
      await c.reply();
      await c.command('EHLO app.test');
      c.socket.write(`MAIL FROM:<${'a'.repeat(20 * 1024)}@app.test>${ending}`);
      expect(await c.reply()).toMatch(/^421 .*Command line too long/);
      expect(await c.reply()).toBe('');
    }
    const c = await connect(relay.port);
    await c.reply();
    await c.command('EHLO app.test');
    expect(await c.command(`NOOP ${'x'.repeat(600)}`)).toMatch(/^250/);
    expect(await c.command(`MAIL FROM:<${'a'.repeat(590)}@app.test>`)).toMatch(/^501/); // a path is at most 256 bytes
  });

  it('unknown commands: 500 each, then 421 and close at the tenth', async () => {
    relay = await startRelay({});
    const c = await connect(relay.port);
    await c.reply();
    const replies: string[] = [];
    for (let i = 0; i < 10; i++) replies.push(await c.command(`XJUNK${i}`));
    expect(replies.slice(0, 9)).toEqual(Array(9).fill(expect.stringMatching(/^500 /)));
    expect(replies[9]).toMatch(/^421 /);
    expect(await c.reply()).toBe('');
  });

  it('pipelining: talking before the banner gets 421; content before 354 is one message (documented); a flood without reading does not stall others', async () => {
    relay = await startRelay({ listen: { maxSessionTime: '3s' } });
    // An allowed client is greeted at once (greeting.ts), so there is no "too soon" for it: what it
    // writes at connect is read after the banner. Others keep smtp-server's early-talker check.
    const early = await connect(relay.port);
    early.socket.write('EHLO too.soon\r\n');
    expect(await early.reply()).toMatch(/^220 /);
    expect(await early.reply()).toMatch(/^250/);

    const eager = await connect(relay.port);
    await eager.reply();
    await eager.command('EHLO app.test');
    eager.socket.write('MAIL FROM:<app@app.test>\r\nRCPT TO:<dev@target.test>\r\nDATA\r\nSubject: eager\r\n\r\nMAIL FROM:<x@y.test>\r\n.\r\nNOOP\r\n');
    expect([await eager.reply(), await eager.reply(), await eager.reply(), await eager.reply(), await eager.reply()])
      .toEqual([expect.stringMatching(/^250/), expect.stringMatching(/^250/), expect.stringMatching(/^354/), expect.stringMatching(/^250 2\.0\.0 Ok: queued/), expect.stringMatching(/^250/)]);
    expect((await relay.relay.getStatus()).queued).toBe(1);

    const flooder = await connect(relay.port);
    await flooder.reply();
    flooder.socket.pause(); // never read a reply again
    flooder.socket.write(Buffer.from('NOOP\r\n'.repeat(200_000)));
    const started = Date.now();
    const other = await connect(relay.port);
    await other.envelope('app@app.test', ['dev@target.test']);
    expect(await sendData(other, 'Subject: meanwhile\r\n\r\nbody\r\n')).toMatch(/^250 /);
    expect(Date.now() - started).toBeLessThan(2000);
    // The flooder is cut at the session deadline (it cannot read the 421) and its socket closed.
    flooder.socket.resume();
    await waitFor(() => flooder.closed, 12_000, 'the flooder disconnected');
  });
});
