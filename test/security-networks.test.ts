// Issue 12, finding 3: IPv4-mapped IPv6 ranges (::ffff:0:0/96) are the IPv4 ranges they are, both for
// the open-relay width rule and for matching clients, over real connections on loopback.
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/schema.js';
import { ipv4Part, isNonPublic, unmapIPv4 } from '../src/net/networks.js';
import { RawSmtp } from './support/raw-smtp.js';
import { startRelay, type TestRelay } from './support/relay.js';

describe('IPv4-mapped IPv6 ranges', () => {
  let relay: TestRelay | null = null;
  const clients: RawSmtp[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.socket.destroy();
    await relay?.stop();
    relay = null;
  });

  it('a mapped range that takes in the IPv4 Internet is refused on a network listener, like 0.0.0.0/0', () => {
    const open = ['::ffff:0:0/96', '::ffff:0.0.0.0/96', '::ffff:0:0/97', '::FFFF:8.0.0.0/103', '::/64', '::ffff:0:0/95'];
    for (const host of ['0.0.0.0', '::', '192.168.1.5']) {
      for (const range of open) {
        expect(() => parseConfig({ listen: { host, allowedClients: ['127.0.0.0/8', range] } }), `${host} ${range}`)
          .toThrow(/listen\.allowedClients\[1\]: ".*" would let computers anywhere on the Internet send mail through this relay \(an open relay\)/);
      }
    }
    // The IPv4 rule, seen through mapping: private space of any size and one public /24 are fine.
    const fine = ['::ffff:10.0.0.0/104', '::ffff:192.168.0.0/112', '::ffff:203.0.113.0/120', '::ffff:8.8.8.0/120', '::ffff:127.0.0.1', '2001:db8::/32'];
    expect(parseConfig({ listen: { host: '::', allowedClients: fine } }).listen.allowedClients).toEqual(fine);
    // Loopback listener: no one else can connect, any range is fine.
    expect(parseConfig({ listen: { host: '127.0.0.1', allowedClients: ['::ffff:0:0/96'] } }).listen.allowedClients).toEqual(['::ffff:0:0/96']);
  });

  it('mapped and plain notations name the same addresses', () => {
    expect(unmapIPv4('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(unmapIPv4('::FFFF:127.0.0.1')).toBe('127.0.0.1');
    expect(unmapIPv4('::1')).toBe('::1');
    expect(ipv4Part('::ffff:a00:0', 104)).toEqual({ address: '10.0.0.0', prefix: 8 });
    expect(ipv4Part('::', 80)).toEqual({ address: '0.0.0.0', prefix: 0 });
    expect(ipv4Part('::', 81)).toBeNull();
    expect(ipv4Part('2001:db8::', 32)).toBeNull();
    expect(isNonPublic('::ffff:808:808')).toBe(false); // 8.8.8.8
    expect(isNonPublic('::ffff:a00:1')).toBe(true); // 10.0.0.1
  });

  it('a dual-stack listener sees 127.0.0.x as ::ffff:127.0.0.x and judges it by either notation', async () => {
    relay = await startRelay({ listen: { host: '::', allowedClients: ['::ffff:127.0.0.2/128', '127.0.0.3'] } });
    const greet = async (from: string) => {
      const c = await RawSmtp.connect(relay!.port, '127.0.0.1', from);
      clients.push(c);
      return c.reply();
    };
    expect(await greet('127.0.0.2')).toMatch(/^220 /);
    expect(await greet('127.0.0.3')).toMatch(/^220 /);
    expect(await greet('127.0.0.1')).toMatch(/^554 5\.7\.1 .*127\.0\.0\.1\] is not an allowed client/);
  });

  it('an IPv4 listener matches its clients against mapped ranges', async () => {
    relay = await startRelay({ listen: { host: '127.0.0.1', allowedClients: ['::ffff:127.0.0.0/126'] } });
    const a = await RawSmtp.connect(relay.port, '127.0.0.1', '127.0.0.2');
    const b = await RawSmtp.connect(relay.port, '127.0.0.1', '127.0.0.9');
    clients.push(a, b);
    expect(await a.reply()).toMatch(/^220 /);
    expect(await b.reply()).toMatch(/^554 5\.7\.1 /);
  });
});
