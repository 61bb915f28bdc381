// Address ranges that are not the public Internet (RFC 6890 special-use blocks): private networks,
// loopback, link-local, documentation, multicast and reserved space. Used to refuse recipients at
// domain literals such as user@[10.0.0.1], and to tell a LAN allow-list from an open relay.
import net from 'node:net';

const NON_PUBLIC_V4: [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16],
  ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
];
const NON_PUBLIC_V6: [string, number][] = [
  ['::', 128], ['::1', 128], ['::ffff:0:0', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7],
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

function block(address: string, prefix: number, family: Family): Block {
  const list = new net.BlockList();
  list.addSubnet(address, prefix, family);
  return { prefix, list };
}

function familyOf(ip: string): Family | null {
  const v = net.isIP(ip);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : null;
}

/** The IPv4 address inside an IPv4-mapped IPv6 one (::ffff:10.0.0.1), else the address unchanged. */
export function unmapIPv4(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? (mapped[1] as string) : ip;
}

/** True for an address outside the public Internet; false for a public one or something not an address. */
export function isNonPublic(address: string): boolean {
  return isNonPublicRange(address, 128);
}

/**
 * True when a whole range lies inside non-public space. A range with at least as long a prefix as a
 * non-public block lies inside it exactly when its written address does.
 */
export function isNonPublicRange(address: string, prefix: number): boolean {
  const ip = unmapIPv4(address);
  const family = familyOf(ip);
  return family !== null && BLOCKS[family].some((b) => prefix >= b.prefix && b.list.check(ip, family));
}

export function isLoopback(address: string): boolean {
  const ip = unmapIPv4(address);
  const family = familyOf(ip);
  return family !== null && LOOPBACK[family].list.check(ip, family);
}
