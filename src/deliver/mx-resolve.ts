// Where direct delivery sends a domain's mail (RFC 5321 §5.1): its MX hosts in the order they are
// tried, with their addresses, and the EHLO name we introduce ourselves with. DNS only, no SMTP, so
// `route ADDR` can show the same answer the transport acts on.
import dns, { Resolver } from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';
import { domainToASCII } from 'node:url';
import type { Config } from '../config/schema.js';

export type IpFamily = Config['delivery']['ipFamily'];

export interface MxHost {
  /** The exchange named by the MX record; the domain itself for an implicit MX or an address literal. */
  name: string;
  preference: number;
  /** In the order they are tried (IPv4 before IPv6 with ipFamily "auto"); empty when none is usable. */
  addresses: string[];
  /** Why `addresses` is empty. */
  problem?: string;
}

export interface MxRoute {
  /** The domain as queried: lower case, an IDN in its ASCII (punycode) form. */
  domain: string;
  /** The domain has no MX record and its own address stands in (RFC 5321 §5.1 "implicit MX"). */
  implicit: boolean;
  /** Lowest preference first, equal preferences shuffled; hosts without an address keep their `problem`. */
  hosts: MxHost[];
}

/** Why a domain cannot be delivered to now (`permanent` false) or ever (`permanent` true). */
export class RouteError extends Error {
  constructor(message: string, readonly permanent: boolean, readonly enhanced: string) {
    super(message);
    this.name = 'RouteError';
  }
}

export interface RouteOptions {
  /** delivery.ipFamily: which address records are looked up. Default "auto". */
  ipFamily?: IpFamily;
  /** Default: createResolver(), the system's DNS servers. */
  resolver?: Resolver;
}

/** A DNS resolver on `servers` ("127.0.0.1:5353"), or on the system's servers when none are given. */
export function createResolver(servers?: string[]): Resolver {
  // c-ares' own defaults (4 tries, doubling from 5 s) can hold one lookup for over a minute.
  const resolver = new Resolver({ timeout: 5000, tries: 2 });
  if (servers?.length) resolver.setServers(servers);
  return resolver;
}

/**
 * The MX hosts of `domain` with their addresses, in the order delivery tries them. Rejects with a
 * RouteError: NXDOMAIN (5.1.2) and null MX (RFC 7505, 5.1.10) are permanent; SERVFAIL, timeouts and
 * "no host has a usable address" are temporary.
 */
export async function resolveRoute(domain: string, options: RouteOptions = {}): Promise<MxRoute> {
  const family = options.ipFamily ?? 'auto';
  const resolver = options.resolver ?? createResolver();
  const literal = /^\[(?:ipv6:)?([^\]]+)\]$/i.exec(domain)?.[1];
  if (literal !== undefined) return addressLiteral(domain, literal, family);
  const ascii = domainToASCII(domain.toLowerCase().replace(/\.$/, ''));
  if (!ascii) throw new RouteError(`"${domain}" is not a valid mail domain`, true, '5.1.2');

  let records: { exchange: string; priority: number }[];
  try {
    records = await resolver.resolveMx(absolute(ascii));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND') throw new RouteError(`${ascii}: no such domain (DNS: NXDOMAIN)`, true, '5.1.2');
    if (code !== 'ENODATA') throw new RouteError(`${ascii}: MX lookup failed (DNS: ${dnsProblem(e)})`, false, '4.4.3');
    records = [];
  }

  if (records.length === 0) {
    // RFC 5321 §5.1: no MX records, so the domain's own address is an implicit MX of preference 0.
    const { host, temporary } = await lookUpHost(ascii, 0, family, resolver);
    if (host.addresses.length) return { domain: ascii, implicit: true, hosts: [host] };
    const why = `${ascii}: no MX record, and no address to fall back on: ${host.problem}`;
    if (temporary) throw new RouteError(why, false, '4.4.3');
    // With one family switched off the other may have had an address: our setting, not the domain's fault.
    if (family !== 'auto') throw new RouteError(why, false, '4.4.4');
    throw new RouteError(why, true, '5.1.2');
  }

  // A null MX ("." exchange, which c-ares returns as "") says the domain accepts no mail at all.
  const exchanges = records.filter((r) => r.exchange !== '' && r.exchange !== '.');
  if (exchanges.length === 0) throw new RouteError(`${ascii}: the domain accepts no mail (null MX, RFC 7505)`, true, '5.1.10');
  const found = await Promise.all(byPreference(exchanges).map((r) => lookUpHost(r.exchange.toLowerCase(), r.priority, family, resolver)));
  const hosts = found.map((f) => f.host);
  if (!hosts.some((h) => h.addresses.length)) {
    const why = `${ascii}: no MX host has a usable address: ${hosts.map((h) => `${h.name}: ${h.problem}`).join('; ')}`;
    throw new RouteError(why, false, found.some((f) => f.temporary) ? '4.4.3' : '4.4.4');
  }
  return { domain: ascii, implicit: false, hosts };
}

/** Sorted by preference; hosts of equal preference in random order, to share load (RFC 5321 §5.1). */
function byPreference<T extends { priority: number }>(records: T[]): T[] {
  const shuffled = [...records];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j] as T, shuffled[i] as T];
  }
  // Array#sort is stable, so the shuffle survives within each preference.
  return shuffled.sort((a, b) => a.priority - b.priority);
}

/** The host's usable addresses, or why it has none and whether asking again later may help. */
async function lookUpHost(name: string, preference: number, family: IpFamily, resolver: Resolver): Promise<{ host: MxHost; temporary: boolean }> {
  const none = (problem: string, temporary = false) => ({ host: { name, preference, addresses: [], problem }, temporary });
  if (net.isIP(name)) {
    // Not allowed in an MX record, but common enough that other MTAs dial it rather than fail.
    const mismatch = familyMismatch(name, family);
    return mismatch ? none(mismatch) : { host: { name, preference, addresses: [name] }, temporary: false };
  }
  const types = family === 'ipv4' ? ['A'] as const : family === 'ipv6' ? ['AAAA'] as const : ['A', 'AAAA'] as const;
  const answers = await Promise.allSettled(types.map((t) => (t === 'A' ? resolver.resolve4(absolute(name)) : resolver.resolve6(absolute(name)))));
  const addresses = answers.flatMap((a) => (a.status === 'fulfilled' ? a.value : []));
  if (addresses.length) return { host: { name, preference, addresses }, temporary: false };
  const errors = answers.map((a, i) => ({ type: types[i], error: a.status === 'rejected' ? (a.reason as NodeJS.ErrnoException) : null }));
  const broken = errors.find((r) => r.error && r.error.code !== 'ENODATA' && r.error.code !== 'ENOTFOUND');
  if (broken) return none(`${broken.type} lookup failed (DNS: ${dnsProblem(broken.error)})`, true);
  return none(errors.some((r) => r.error?.code === 'ENOTFOUND') ? 'no such name (DNS: NXDOMAIN)' : `no ${types.join(' or ')} record`);
}

function addressLiteral(domain: string, address: string, family: IpFamily): MxRoute {
  if (!net.isIP(address)) throw new RouteError(`${domain}: not a valid address literal`, true, '5.1.2');
  const mismatch = familyMismatch(address, family);
  if (mismatch) throw new RouteError(`${domain}: ${mismatch}`, false, '4.4.4');
  return { domain, implicit: true, hosts: [{ name: address, preference: 0, addresses: [address] }] };
}

function familyMismatch(address: string, family: IpFamily): string | null {
  const version = net.isIP(address);
  return family === 'auto' || family === `ipv${version}` ? null : `an IPv${version} address, but delivery.ipFamily is "${family}"`;
}

/** With the trailing dot the name is absolute: the resolver must not try it under the local search domains. */
function absolute(name: string): string {
  return `${name}.`;
}

function dnsProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ESERVFAIL') return 'SERVFAIL';
  if (code === 'ETIMEOUT') return 'no answer from the DNS server (timed out)';
  if (code === 'ECONNREFUSED') return 'the DNS server refused the connection';
  return code ?? (e as Error).message;
}

export interface HeloName {
  name: string;
  /** Set when MX hosts may refuse the name (not fully qualified, or not in DNS): say so to the admin. */
  problem: string | null;
}

/**
 * The name sent in EHLO: delivery.heloName, else `hostname` (the relay's configured name), else this
 * computer's fully qualified name. Many mail servers reject an EHLO name that does not resolve
 * (Postfix reject_unknown_helo_hostname; the IBM i guide's "resolvable HELO name"), so it is checked.
 */
export async function chooseHeloName(config: Config, options: { hostname?: string; resolver?: Resolver } = {}): Promise<HeloName> {
  const name = config.delivery.heloName || options.hostname || (await machineName());
  // An address is sent as a literal (RFC 5321 §4.1.3); there is no name to check.
  const version = net.isIP(name);
  if (version) return { name: version === 4 ? `[${name}]` : `[IPv6:${name}]`, problem: null };
  const resolver = options.resolver ?? createResolver();
  const why = !name.includes('.')
    ? 'is not a fully qualified domain name'
    : !(await Promise.any([resolver.resolve4(absolute(name)), resolver.resolve6(absolute(name))]).then(() => true, () => false))
      ? 'does not resolve in DNS'
      : null;
  const problem = why && `EHLO name "${name}" ${why}; many mail servers refuse mail from such a name ("450 4.7.1 Helo command rejected: Host not found"): set delivery.heloName to this computer's name as published in DNS`;
  return { name, problem };
}

/** Like `hostname -f`: the OS host name, qualified by the name its address maps back to (Windows adds the primary DNS suffix). */
async function machineName(): Promise<string> {
  const short = os.hostname();
  if (short.includes('.')) return short;
  try {
    const { address } = await dns.lookup(short);
    const { hostname } = await dns.lookupService(address, 0);
    if (hostname.toLowerCase().startsWith(`${short.toLowerCase()}.`)) return hostname;
  } catch {
    // Unresolvable: the short name it is, and chooseHeloName reports the problem.
  }
  return short;
}
