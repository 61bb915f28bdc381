// Address ranges that are not the public Internet (RFC 6890 special-use blocks): private networks,
// loopback, link-local, documentation, multicast and reserved space. Used to refuse recipients at
// domain literals such as user@[10.0.0.1], and to tell a LAN allow-list from an open relay.
//
// An IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) is the IPv4 client a.b.c.d seen
// through a dual-stack socket, so it is always judged as that IPv4 address, and a range that covers
// mapped space is judged by the IPv4 range it covers: ::ffff:0:0/96 is 0.0.0.0/0.
import net from 'node:net';

const NON_PUBLIC_V4: [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16],
  ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
];
// No ::ffff:0:0/96 here: mapped addresses are judged as the IPv4 addresses they are.
const NON_PUBLIC_V6: [string, number][] = [
  ['::', 128], ['::1', 128], ['64:ff9b:1::', 48], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7],
  ['fe80::', 10], ['ff00::', 8],
];

type Family = 'ipv4' | 'ipv6';
type Block = { prefix: number; list: net.BlockList };
// Kept per family: a BlockList also matches IPv4 addresses against IPv4-mapped IPv6 rules.
const BLOCKS: Record<Family, Block[]> = {
  ipv4: NON_PUBLIC_V4.map(([a, p]) => block(a, p, 'ipv4')),
  ipv6: NON_PUBLIC_V6.map(([a, p]) => block(a, p, 'ipv6')),
};
const LOOPBACK: Record<Family, Block> = { ipv4: block('127.0.0.0', 8, 'ipv4'), ipv6: block('::1', 128, 'ipv6') };

/** Public IPv4 ranges up to this prefix (a /24: one partner's servers) may be allowed on a network listener. */
const WIDEST_PUBLIC_V4 = 24;
const WIDEST_PUBLIC_V6 = 48;
/** Bits of ::ffff:0:0/96 in front of the IPv4 address. */
const MAPPED_PREFIX = 96;

function block(address: string, prefix: number, family: Family): Block {
  const list = new net.BlockList();
  list.addSubnet(address, prefix, family);
  return { prefix, list };
}

function familyOf(ip: string): Family | null {
  const v = net.isIP(ip);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : null;
}

/** The 16 bytes of an IPv6 address (any notation, including an embedded dotted quad). */
function ipv6Bytes(ip: string): number[] {
  let text = ip.toLowerCase();
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const groups = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const front = groups(head);
  const back = groups(tail);
  const words = tail === undefined ? front : [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/** True when the first `bits` bits of two byte arrays are equal. */
function samePrefix(a: number[], b: number[], bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if (((a[byte] as number) & mask) !== ((b[byte] as number) & mask)) return false;
  }
  return true;
}

const MAPPED = ipv6Bytes('::ffff:0:0');

/** The IPv4 address inside an IPv4-mapped IPv6 one (::ffff:10.0.0.1 or ::ffff:a00:1), else the address unchanged. */
export function unmapIPv4(ip: string): string {
  if (!net.isIPv6(ip)) return ip;
  const bytes = ipv6Bytes(ip);
  return samePrefix(bytes, MAPPED, MAPPED_PREFIX) ? bytes.slice(12).join('.') : ip;
}

/**
 * The IPv4 addresses a range takes in, as an IPv4 range: the range itself for IPv4; for IPv6, its
 * part inside ::ffff:0:0/96 (::ffff:10.0.0.0/104 is 10.0.0.0/8, ::/64 contains every IPv4 address),
 * or null when it has none.
 */
export function ipv4Part(address: string, prefix: number): { address: string; prefix: number } | null {
  if (net.isIPv4(address)) return { address, prefix };
  if (!net.isIPv6(address)) return null;
  const bytes = ipv6Bytes(address);
  if (prefix >= MAPPED_PREFIX) return samePrefix(bytes, MAPPED, MAPPED_PREFIX) ? { address: bytes.slice(12).join('.'), prefix: prefix - MAPPED_PREFIX } : null;
  return samePrefix(bytes, MAPPED, prefix) ? { address: '0.0.0.0', prefix: 0 } : null;
}

/** True for an address outside the public Internet; false for a public one or something not an address. */
export function isNonPublic(address: string): boolean {
  return isNonPublicRange(address, 128);
}

/**
 * True when a whole range lies inside non-public space. A range with at least as long a prefix as a
 * non-public block lies inside it exactly when its written address does. A range covering mapped
 * space is judged by its IPv4 part.
 */
export function isNonPublicRange(address: string, prefix: number): boolean {
  const family = familyOf(address);
  if (family === null) return false;
  const v4 = ipv4Part(address, family === 'ipv4' ? Math.min(prefix, 32) : prefix);
  if (v4 && !BLOCKS.ipv4.some((b) => v4.prefix >= b.prefix && b.list.check(v4.address, 'ipv4'))) return false;
  if (v4 && (family === 'ipv4' || prefix >= MAPPED_PREFIX)) return true;
  return BLOCKS.ipv6.some((b) => prefix >= b.prefix && b.list.check(address, 'ipv6'));
}

/**
 * True when allowing this range on a listener that the network can reach would make an open relay:
 * it takes in public addresses beyond one /24 (IPv4, also through IPv4-mapped IPv6 space) or /48.
 */
export function isOpenToInternet(address: string, prefix: number): boolean {
  const v4 = ipv4Part(address, prefix);
  if (v4 && v4.prefix < WIDEST_PUBLIC_V4 && !isNonPublicRange(v4.address, v4.prefix)) return true;
  const onlyV4 = net.isIPv4(address) || (v4 !== null && prefix >= MAPPED_PREFIX);
  return !onlyV4 && prefix < WIDEST_PUBLIC_V6 && !isNonPublicRange(address, prefix);
}

export function isLoopback(address: string): boolean {
  const ip = unmapIPv4(address);
  const family = familyOf(ip);
  return family !== null && LOOPBACK[family].list.check(ip, family);
}

/** "127.0.0.0/8", "::1/128" or a bare address (a single host); null when it is neither. */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [address = '', prefixText, extra] = text.trim().split('/');
  if (extra !== undefined) return null;
  const v = net.isIP(address);
  if (v === 0) return null;
  const max = v === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d+$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return null;
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}
