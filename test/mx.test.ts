// Direct MX delivery (delivery.mode "mx") against a local DNS server and scripted MX hosts, all on
// loopback: every MX host listens on the same port at its own 127.0.0.x address (all of 127/8 is lo
// on Linux), and the transport's test-only port option points it there instead of 25.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type ConfigInput } from '../src/config/schema.js';
import { MxTransport } from '../src/deliver/mx.js';
import { chooseHeloName, createResolver, resolveRoute, RouteError, type MxRoute, type RouteOptions } from '../src/deliver/mx-resolve.js';
import type { AttemptOutcome } from '../src/deliver/outcome.js';
import { startDnsServer, type DnsServer } from './support/dns-server.js';
import { freePort, startRelay, waitFor, type TestRelay } from './support/relay.js';
import { startUpstream, type Upstream, type UpstreamOptions } from './support/upstream.js';

const ZONE = {
  // Listed against preference order on purpose.
  'pref.test': { MX: [[20, 'backup.pref.test'], [10, 'primary.pref.test']] },
  'primary.pref.test': { A: ['127.0.0.2'] },
  'backup.pref.test': { A: ['127.0.0.3'] },
  'equal.test': { MX: [[10, 'one.equal.test'], [10, 'two.equal.test'], [5, 'first.equal.test']] },
  'first.equal.test': { A: ['127.0.0.20'] },
  'one.equal.test': { A: ['127.0.0.21'] },
  'two.equal.test': { A: ['127.0.0.22'] },
  'nomx.test': { A: ['127.0.0.10'] },
  'nothing.test': {},
  'null.test': { MX: [[0, '.']] },
  'broken.test': { servfail: true },
  'dual.test': { MX: [[10, 'mx.dual.test']] },
  'mx.dual.test': { A: ['127.0.0.11'], AAAA: ['::1'] },
  'ghost.test': { MX: [[10, 'mx.nowhere.test'], [20, 'mx.sick.test']] },
  'mx.sick.test': { servfail: true },
  'sender.test': { MX: [[10, 'mx.sender.test']] },
  'mx.sender.test': { A: ['127.0.0.14'] },
  'relay.mx.test': { A: ['192.0.2.25'] },
} satisfies Parameters<typeof startDnsServer>[0];

let dns: DnsServer;
let port: number;
let dir: string;
let rawPath: string;
let upstreams: Upstream[] = [];
let transports: MxTransport[] = [];

beforeAll(async () => {
  dns = await startDnsServer(ZONE);
  port = await freePort();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mx-test-'));
  rawPath = path.join(dir, 'message.eml');
  await fs.writeFile(rawPath, 'From: JTS <jts@sender.test>\r\nTo: dev@pref.test\r\nSubject: build 42 failed\r\n\r\nSee the log.\r\n.hidden line\r\n');
});

afterEach(async () => {
  for (const t of transports) t.close(true);
  transports = [];
  await Promise.all(upstreams.map((u) => u.stop()));
  upstreams = [];
});

afterAll(async () => {
  await dns.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

/** An MX host on `host`, at the port every MX host of these tests shares. */
async function mxHost(host: string, options: UpstreamOptions = {}): Promise<Upstream> {
  const up = await startUpstream({ ...options, host, port });
  upstreams.push(up);
  return up;
}

function transport(delivery: ConfigInput['delivery'] = {}, log: string[] = []): MxTransport {
  const config = parseConfig({ delivery: { mode: 'mx', heloName: 'relay.mx.test', ...delivery } });
  const t = new MxTransport(config, { dnsServers: [dns.server], port, log: { warn: (text) => log.push(text) } });
  transports.push(t);
  return t;
}

function route(domain: string, options: Omit<RouteOptions, 'resolver'> = {}): Promise<MxRoute> {
  const resolver = createResolver([dns.server]);
  return resolveRoute(domain, { ...options, resolver });
}

async function routeError(domain: string, options: Omit<RouteOptions, 'resolver'> = {}): Promise<RouteError> {
  const e = await route(domain, options).then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(RouteError);
  return e as RouteError;
}

function send(t: MxTransport, to: string[], from = 'jts@sender.test'): Promise<AttemptOutcome> {
  return t.send({ envelope: { from, to }, contentPath: rawPath });
}

describe('resolveRoute: the MX list, as route ADDR shows it', () => {
  it('orders MX hosts by preference and gives each its addresses', async () => {
    expect(await route('pref.test')).toEqual({
      domain: 'pref.test', implicit: false,
      hosts: [
        { name: 'primary.pref.test', preference: 10, addresses: ['127.0.0.2'] },
        { name: 'backup.pref.test', preference: 20, addresses: ['127.0.0.3'] },
      ],
    });
  });

  it('shuffles hosts of equal preference, never ahead of a lower preference', async () => {
    const orders = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const { hosts } = await route('equal.test');
      expect(hosts[0]?.name).toBe('first.equal.test');
      orders.add(hosts.slice(1).map((h) => h.name).join(' '));
    }
    // Both orders turn up; the chance of one never appearing in 40 tries is 2^-39.
    expect([...orders].sort()).toEqual(['one.equal.test two.equal.test', 'two.equal.test one.equal.test']);
  });

  it('falls back to the domain\'s own address when it has no MX (implicit MX)', async () => {
    expect(await route('NoMX.test')).toEqual({ domain: 'nomx.test', implicit: true, hosts: [{ name: 'nomx.test', preference: 0, addresses: ['127.0.0.10'] }] });
  });

  it('honours ipFamily: only A, only AAAA, or both with IPv4 first', async () => {
    const addresses = async (ipFamily: 'auto' | 'ipv4' | 'ipv6') => (await route('dual.test', { ipFamily })).hosts[0]?.addresses;
    expect(await addresses('ipv4')).toEqual(['127.0.0.11']);
    expect(await addresses('ipv6')).toEqual(['::1']);
    expect(await addresses('auto')).toEqual(['127.0.0.11', '::1']);
  });

  it('null MX and NXDOMAIN are permanent; a domain with neither MX nor address too', async () => {
    expect(await routeError('null.test')).toMatchObject({ permanent: true, enhanced: '5.1.10', message: 'null.test: the domain accepts no mail (null MX, RFC 7505)' });
    expect(await routeError('nx.test')).toMatchObject({ permanent: true, enhanced: '5.1.2', message: 'nx.test: no such domain (DNS: NXDOMAIN)' });
    expect(await routeError('nothing.test')).toMatchObject({ permanent: true, enhanced: '5.1.2', message: 'nothing.test: no MX record, and no address to fall back on: no A or AAAA record' });
  });

  it('SERVFAIL is temporary, and so are MX hosts that have no usable address', async () => {
    expect(await routeError('broken.test')).toMatchObject({ permanent: false, enhanced: '4.4.3', message: 'broken.test: MX lookup failed (DNS: SERVFAIL)' });
    expect(await routeError('ghost.test')).toMatchObject({
      permanent: false, enhanced: '4.4.3',
      message: 'ghost.test: no MX host has a usable address: mx.nowhere.test: no such name (DNS: NXDOMAIN); mx.sick.test: A lookup failed (DNS: SERVFAIL)',
    });
  });

  it('a DNS server that cannot be reached is temporary too, never a bounce', async () => {
    const silent = await freePort(); // nothing listens there on UDP either: the query is refused at once
    const e = await resolveRoute('pref.test', { resolver: createResolver([`127.0.0.1:${silent}`]) }).catch((err: unknown) => err);
    expect(e).toMatchObject({ permanent: false, enhanced: '4.4.3', message: 'pref.test: MX lookup failed (DNS: the DNS server refused the connection)' });
  });

  it('takes an address literal as it is, within ipFamily', async () => {
    expect(await route('[127.0.0.9]')).toMatchObject({ implicit: true, hosts: [{ name: '127.0.0.9', addresses: ['127.0.0.9'] }] });
    expect(await routeError('[IPv6:::1]', { ipFamily: 'ipv4' })).toMatchObject({ permanent: false, message: '[IPv6:::1]: an IPv6 address, but delivery.ipFamily is "ipv4"' });
  });
});

describe('MxTransport: one transaction per domain to its MX hosts', () => {
  it('delivers to the most preferred MX over opportunistic STARTTLS (certificate not verified), EHLO heloName', async () => {
    const [primary, backup] = [await mxHost('127.0.0.2'), await mxHost('127.0.0.3')];
    const outcome = await send(transport(), ['dev@pref.test']);
    const relay = `primary.pref.test[127.0.0.2]:${port}`;
    expect(outcome).toEqual({ relay, recipients: [{ address: 'dev@pref.test', verdict: 'sent', code: 250, response: '250 OK: queued', relay }] });
    expect(primary.messages).toHaveLength(1);
    // The test CA is in no trust store: only an unverified handshake gets this far.
    expect(primary.messages[0]).toMatchObject({ from: 'jts@sender.test', to: ['dev@pref.test'], secure: true });
    expect(primary.messages[0]?.raw.toString()).toBe(await fs.readFile(rawPath, 'utf8'));
    expect(primary.commands).toContain('EHLO relay.mx.test');
    expect(backup.commands).toEqual([]);
  });

  it('keeps the message\'s 8-bit declaration per domain: MAIL FROM carries BODY=8BITMIME', async () => {
    const primary = await mxHost('127.0.0.2');
    const t = transport();
    const outcome = await t.send({ envelope: { from: 'jts@sender.test', to: ['dev@pref.test'], eightBit: true }, contentPath: rawPath });
    expect(outcome.recipients[0]?.verdict).toBe('sent');
    expect(primary.commands).toContain('MAIL FROM:<jts@sender.test> BODY=8BITMIME');
  });

  it('sends in plaintext to an MX that offers no STARTTLS', async () => {
    const primary = await mxHost('127.0.0.2', { starttls: 'disabled' });
    expect((await send(transport(), ['dev@pref.test'])).recipients[0]?.verdict).toBe('sent');
    expect(primary.messages[0]?.secure).toBe(false);
  });

  it('moves to the next MX when the first refuses connections', async () => {
    const backup = await mxHost('127.0.0.3'); // nothing listens on 127.0.0.2
    const outcome = await send(transport(), ['dev@pref.test']);
    expect(outcome.relay).toBe(`backup.pref.test[127.0.0.3]:${port}`);
    expect(outcome.recipients[0]?.verdict).toBe('sent');
    expect(backup.messages.map((m) => m.to)).toEqual([['dev@pref.test']]);
  });

  it('moves to the next MX when the first greets with 421', async () => {
    await mxHost('127.0.0.2', { replies: { connect: { code: 421, message: '4.3.2 Service not available, closing channel' } } });
    const backup = await mxHost('127.0.0.3');
    expect((await send(transport(), ['dev@pref.test'])).relay).toBe(`backup.pref.test[127.0.0.3]:${port}`);
    expect(backup.messages).toHaveLength(1);
  });

  it('takes a reply about the message as final: a 550 at RCPT fails the recipient, the next MX is not asked', async () => {
    await mxHost('127.0.0.2', { replies: { rcpt: { 'gone@pref.test': { code: 550, message: '5.1.1 User unknown' } } } });
    const backup = await mxHost('127.0.0.3');
    const outcome = await send(transport(), ['gone@pref.test', 'dev@pref.test']);
    const relay = `primary.pref.test[127.0.0.2]:${port}`;
    expect(outcome.recipients).toEqual([
      { address: 'gone@pref.test', verdict: 'failed', code: 550, enhanced: '5.1.1', response: '550 5.1.1 User unknown', relay },
      { address: 'dev@pref.test', verdict: 'sent', code: 250, response: '250 OK: queued', relay },
    ]);
    expect(backup.commands).toEqual([]);
  });

  it('defers recipients alone when every MX is down: no destinationFailure, so other domains keep flowing', async () => {
    const outcome = await send(transport(), ['dev@pref.test']);
    expect(outcome.destinationFailure).toBeUndefined();
    expect(outcome.relay).toBe(`backup.pref.test[127.0.0.3]:${port}`); // the last one tried
    expect(outcome.recipients).toMatchObject([{ address: 'dev@pref.test', verdict: 'deferred', response: expect.stringMatching(/ECONNREFUSED 127\.0\.0\.3/) }]);
  });

  it('delivers to the domain\'s A record when it has no MX', async () => {
    const host = await mxHost('127.0.0.10');
    const outcome = await send(transport(), ['ops@nomx.test']);
    expect(outcome.relay).toBe(`nomx.test[127.0.0.10]:${port}`);
    expect(host.messages.map((m) => m.to)).toEqual([['ops@nomx.test']]);
  });

  it('fails null MX (5.1.10) and NXDOMAIN (5.1.2) recipients, defers SERVFAIL ones, connecting nowhere', async () => {
    const outcome = await send(transport(), ['a@null.test', 'b@nx.test', 'c@broken.test']);
    expect(outcome).toEqual({
      relay: 'none',
      recipients: [
        { address: 'a@null.test', verdict: 'failed', enhanced: '5.1.10', response: 'null.test: the domain accepts no mail (null MX, RFC 7505)', relay: 'none' },
        { address: 'b@nx.test', verdict: 'failed', enhanced: '5.1.2', response: 'nx.test: no such domain (DNS: NXDOMAIN)', relay: 'none' },
        { address: 'c@broken.test', verdict: 'deferred', enhanced: '4.4.3', response: 'broken.test: MX lookup failed (DNS: SERVFAIL)', relay: 'none' },
      ],
    });
  });

  it('splits one message into one transaction per domain, each with its own recipients', async () => {
    const [pref, nomx] = [await mxHost('127.0.0.2'), await mxHost('127.0.0.10')];
    const outcome = await send(transport(), ['a@pref.test', 'x@nomx.test', 'b@PREF.test', 'z@nx.test']);
    expect(pref.messages.map((m) => m.to)).toEqual([['a@pref.test', 'b@pref.test']]); // nodemailer lower-cases domains
    expect(nomx.messages.map((m) => m.to)).toEqual([['x@nomx.test']]);
    expect(outcome.recipients.map((r) => [r.address, r.verdict])).toEqual([
      ['a@pref.test', 'sent'], ['x@nomx.test', 'sent'], ['b@PREF.test', 'sent'], ['z@nx.test', 'failed'],
    ]);
    // One relay per domain, in the order the domains first appear; "none" where DNS ended it.
    expect(outcome.relay).toBe(`primary.pref.test[127.0.0.2]:${port},nomx.test[127.0.0.10]:${port},none`);
  });

  it('connects over IPv6 only with ipFamily ipv6, and over IPv4 only with ipv4', async () => {
    const [v4, v6] = [await mxHost('127.0.0.11'), await mxHost('::1')];
    expect((await send(transport({ ipFamily: 'ipv6' }), ['a@dual.test'])).relay).toBe(`mx.dual.test[::1]:${port}`);
    expect((await send(transport({ ipFamily: 'ipv4' }), ['b@dual.test'])).relay).toBe(`mx.dual.test[127.0.0.11]:${port}`);
    expect(v6.messages.map((m) => m.to)).toEqual([['a@dual.test']]);
    expect(v4.messages.map((m) => m.to)).toEqual([['b@dual.test']]);
  });

  it('warns once when the EHLO name does not resolve, and still uses it', async () => {
    const primary = await mxHost('127.0.0.2');
    const log: string[] = [];
    const t = transport({ heloName: 'unknown.mx.test' }, log);
    await send(t, ['a@pref.test']);
    await send(t, ['b@pref.test']);
    // EHLO twice per connection: again after STARTTLS.
    expect(primary.commands.filter((c) => c.startsWith('EHLO'))).toEqual(Array(4).fill('EHLO unknown.mx.test'));
    expect(log).toEqual([expect.stringMatching(/^EHLO name "unknown\.mx\.test" does not resolve in DNS; .*set delivery\.heloName/)]);
    const quiet: string[] = [];
    await send(transport({}, quiet), ['c@pref.test']);
    expect(quiet).toEqual([]);
  });

  it('close(true) ends a conversation in flight as deferred and does not go on to the next MX', async () => {
    const primary = await mxHost('127.0.0.2', { dataReplyDelayMs: 5000 });
    const backup = await mxHost('127.0.0.3');
    const t = transport();
    const sending = send(t, ['dev@pref.test']);
    await waitFor(() => primary.messages.length === 1, 5000, 'the message at the primary MX');
    t.close(true);
    const outcome = await sending;
    expect(outcome.maybeDelivered).toBe(true);
    expect(outcome.recipients).toMatchObject([{ verdict: 'deferred', response: expect.stringMatching(/relay is shutting down/) }]);
    expect(backup.commands).toEqual([]);
  });
});

describe('chooseHeloName', () => {
  it('checks a configured name in DNS and sends an address as a literal', async () => {
    const resolver = createResolver([dns.server]);
    const helo = (heloName: string, hostname?: string) => chooseHeloName(parseConfig({ delivery: { heloName } }), { hostname, resolver });
    expect(await helo('relay.mx.test')).toEqual({ name: 'relay.mx.test', problem: null });
    expect(await helo('', 'relay.mx.test')).toEqual({ name: 'relay.mx.test', problem: null });
    expect((await helo('jts01')).problem).toMatch(/^EHLO name "jts01" is not a fully qualified domain name;/);
    expect(await helo('192.0.2.7')).toEqual({ name: '[192.0.2.7]', problem: null });
  });
});

describe('RelayService in mx mode', () => {
  let relay: TestRelay | null = null;
  afterEach(async () => {
    await relay?.stop();
    relay = null;
  });

  it('delivers each domain to its MX, fails a null-MX recipient and sends the bounce to the sender\'s MX', async () => {
    const [pref, nomx, sender] = [await mxHost('127.0.0.2'), await mxHost('127.0.0.10'), await mxHost('127.0.0.14')];
    relay = await startRelay({ delivery: { mode: 'mx', retrySchedule: '1s' } }, { mx: { dnsServers: [dns.server], port } });
    const client = nodemailer.createTransport({ host: '127.0.0.1', port: relay.port, secure: false, ignoreTLS: true, name: 'jts.localdomain' });
    await client.sendMail({ envelope: { from: 'jts@sender.test', to: ['dev@pref.test', 'ops@nomx.test', 'nobody@null.test'] }, raw: await fs.readFile(rawPath) });

    await waitFor(() => pref.messages.length && nomx.messages.length && sender.messages.length, 10_000, 'both domains and the bounce');
    expect(pref.messages.map((m) => m.to)).toEqual([['dev@pref.test']]);
    expect(nomx.messages.map((m) => m.to)).toEqual([['ops@nomx.test']]);
    expect(sender.messages[0]).toMatchObject({ from: '', to: ['jts@sender.test'] });
    expect(sender.messages[0]?.raw.toString()).toMatch(/Status: 5\.1\.10/);
    // startRelay names the relay "relay.test": it is the EHLO name, and it is not in DNS.
    expect(pref.commands).toContain('EHLO relay.test');

    await waitFor(async () => (await relay!.relay.getStatus()).queued === 0, 5000, 'an empty queue');
    expect(await relay.relay.getStatus()).toMatchObject({ state: 'running', failed: 1 });
    const log = await fs.readFile(path.join(relay.dataDir, 'logs', 'relay.log'), 'utf8');
    // Each recipient's line names its own domain's server.
    expect(log).toMatch(new RegExp(`to=<dev@pref\\.test> relay=primary\\.pref\\.test\\[127\\.0\\.0\\.2\\]:${port} .*status=sent`));
    expect(log).toMatch(new RegExp(`to=<ops@nomx\\.test> relay=nomx\\.test\\[127\\.0\\.0\\.10\\]:${port} .*status=sent`));
    expect(log).toMatch(/to=<nobody@null\.test> relay=.* status=bounced \(null\.test: the domain accepts no mail/);
    expect(log.match(/EHLO name "relay\.test" does not resolve in DNS/g)).toHaveLength(1);
  });

  it('route ADDR lists the MX hosts in order with their addresses, or says why there is none', async () => {
    relay = await startRelay({ delivery: { mode: 'mx' }, rewrite: { senders: [{ match: '@jts.localdomain', replace: 'jts@sender.test' }] } }, { mx: { dnsServers: [dns.server], port } });
    const r = await relay.relay.route('dev@pref.test', 'build@jts.localdomain');
    expect(r).toMatchObject({ mode: 'mx', problem: null, sender: { original: 'build@jts.localdomain', rewritten: 'jts@sender.test' }, tls: 'STARTTLS if offered, certificate not verified' });
    expect(r.destinations).toEqual(['primary.pref.test[127.0.0.2]:25 (preference 10)', 'backup.pref.test[127.0.0.3]:25 (preference 20)']);
    expect((await relay.relay.route('a@null.test')).problem).toMatch(/accepts no mail/);
    expect((await relay.relay.route('a@nomx.test')).destinations).toEqual(["nomx.test[127.0.0.10]:25 (no MX: the domain's own address)"]);
  });
});
