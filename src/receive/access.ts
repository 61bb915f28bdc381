// Who may hand us mail: listen.allowedClients. Everyone else is refused at connect (554).
import net from 'node:net';
import { parseCidr, unmapIPv4 } from '../net/networks.js';

export function allowList(ranges: string[]): (ip: string) => boolean {
  const list = new net.BlockList();
  for (const r of ranges) {
    const c = parseCidr(r);
    // BlockList matches an IPv4 address against a mapped rule too (::ffff:10.0.0.0/104 takes 10.0.0.1).
    if (c) list.addSubnet(c.address, c.prefix, c.family);
  }
  return (address) => {
    // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d; judge them as the IPv4 they are.
    const ip = unmapIPv4(address);
    const family = net.isIP(ip);
    return family !== 0 && list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  };
}
