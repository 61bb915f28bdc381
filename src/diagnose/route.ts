// `smtp-relay route` and the window's route preview: where mail to an address would go, with what TLS
// and sign-in, and what stands in the way, without sending anything.
import dns from 'node:dns/promises';
import net from 'node:net';
import type { RouteInfo } from '../api/contract.js';
import { describeTls, dnsFamily } from '../config/outbound.js';
import type { Config } from '../config/schema.js';
import { createResolver, resolveRoute, RouteError } from '../deliver/mx-resolve.js';
import { senderRewriter } from '../rewrite/senders.js';

/** `dnsServers` replaces the system's for MX lookups (tests). */
export async function describeRoute(c: Config, address: string, from: string | undefined, dnsServers?: string[]): Promise<RouteInfo> {
  const rw = senderRewriter(c.rewrite);
  const sender = from === undefined ? null : { original: from, rewritten: rw ? rw.envelope(from) : from };
  const s = c.smarthost;
  if (c.delivery.mode === 'mx') {
    const info = { recipient: address, sender, mode: 'mx' as const, tls: 'STARTTLS if offered, certificate not verified', auth: 'none' };
    const domain = address.slice(address.lastIndexOf('@') + 1);
    try {
      const route = await resolveRoute(domain, { ipFamily: c.delivery.ipFamily, resolver: createResolver(dnsServers) });
      const destinations = route.hosts.map((h) => `${h.name}[${h.addresses.join(', ') || h.problem || 'no address'}]:25${route.implicit ? ' (no MX: the domain\'s own address)' : ` (preference ${h.preference})`}`);
      return { ...info, destinations, problem: null };
    } catch (e) {
      if (!(e instanceof RouteError)) throw e;
      return { ...info, destinations: [], problem: e.message };
    }
  }
  const tlsText = describeTls(s);
  const authText = s.auth.method === 'none' ? 'none' : `${s.auth.method} as ${s.auth.username}${s.auth.method === 'password' ? ` (${s.auth.mechanism === 'auto' ? 'LOGIN preferred' : s.auth.mechanism})` : ''}`;
  if (!s.host) return { recipient: address, sender, mode: 'smarthost', destinations: [], tls: tlsText, auth: authText, problem: 'no smarthost configured (smarthost.host is empty)' };
  let destinations: string[];
  let problem: string | null = null;
  try {
    const found = net.isIP(s.host) ? [{ address: s.host }] : await dns.lookup(s.host, { family: dnsFamily(c), all: true });
    destinations = found.map((a) => `${s.host}[${a.address}]:${s.port}`);
  } catch (e) {
    destinations = [`${s.host}:${s.port}`];
    problem = `cannot resolve ${s.host}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  return { recipient: address, sender, mode: 'smarthost', destinations, tls: tlsText, auth: authText, problem };
}
