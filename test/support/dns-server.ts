// A small authoritative DNS server on UDP loopback for the MX delivery tests.
//
//   const dns = await startDnsServer({ 'contoso.test': { MX: [[10, 'mx.contoso.test']] }, 'mx.contoso.test': { A: ['127.0.0.2'] } });
//   resolver.setServers([dns.server]);   // "127.0.0.1:PORT"
//
// Answers MX, A and AAAA from the table. A name missing from the table is NXDOMAIN; a name present
// without the asked type is NODATA (NOERROR, no answer); `servfail` answers SERVFAIL. RFC 1035
// encoding; answers repeat the owner name in full (no compression), which every resolver accepts.
import dgram from 'node:dgram';
import net from 'node:net';

export interface DnsRecords {
  /** [preference, exchange]; exchange "." is a null MX (RFC 7505). */
  MX?: [number, string][];
  A?: string[];
  AAAA?: string[];
  /** Answer every query for this name with SERVFAIL (a broken or unreachable authoritative server). */
  servfail?: boolean;
}

/** Owner names in lower case, without the trailing dot. */
export type DnsZone = Record<string, DnsRecords>;

export interface DnsServer {
  /** "127.0.0.1:PORT", for Resolver#setServers. */
  server: string;
  /** Every question received, as "name TYPE" (type as a number when not A, MX or AAAA). */
  queries: string[];
  stop(): Promise<void>;
}

const TYPE = { A: 1, MX: 15, AAAA: 28 } as const;
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3 } as const;
const CLASS_IN = 1;

export async function startDnsServer(zone: DnsZone): Promise<DnsServer> {
  const socket = dgram.createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (query, peer) => {
    const reply = respond(query, zone, queries);
    if (reply) socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return {
    server: `127.0.0.1:${socket.address().port}`,
    queries,
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function respond(query: Buffer, zone: DnsZone, queries: string[]): Buffer | null {
  if (query.length < 12) return null;
  const id = query.readUInt16BE(0);
  const flags = query.readUInt16BE(2);
  if (flags & 0x8000) return null; // a response, not a query: never answer those
  const question = readQuestion(query);
  if (!question || query.readUInt16BE(4) !== 1) return message(id, flags, RCODE.FORMERR, null, []);
  const { name, type, qclass, bytes } = question;
  const typeName = (Object.keys(TYPE) as (keyof typeof TYPE)[]).find((k) => TYPE[k] === type);
  queries.push(`${name} ${typeName ?? type}`);
  const records = Object.hasOwn(zone, name) ? zone[name] : undefined;
  if (!records) return message(id, flags, RCODE.NXDOMAIN, bytes, []);
  if (records.servfail) return message(id, flags, RCODE.SERVFAIL, bytes, []);
  if (qclass !== CLASS_IN || !typeName) return message(id, flags, RCODE.NOERROR, bytes, []);
  const rdatas = typeName === 'MX'
    ? (records.MX ?? []).map(([preference, exchange]) => Buffer.concat([u16(preference), encodeName(exchange)]))
    : (records[typeName] ?? []).map(typeName === 'A' ? ipv4Bytes : ipv6Bytes);
  const answers = rdatas.map((rdata) => Buffer.concat([encodeName(name), u16(type), u16(CLASS_IN), u32(300), u16(rdata.length), rdata]));
  return message(id, flags, RCODE.NOERROR, bytes, answers);
}

/** Header (QR, AA, RA set; opcode and RD copied from the query), the question echoed, the answers. */
function message(id: number, queryFlags: number, rcode: number, question: Buffer | null, answers: Buffer[]): Buffer {
  const flags = 0x8000 | (queryFlags & 0x7800) | 0x0400 | (queryFlags & 0x0100) | 0x0080 | rcode;
  const header = Buffer.concat([u16(id), u16(flags), u16(question ? 1 : 0), u16(answers.length), u16(0), u16(0)]);
  return Buffer.concat([header, ...(question ? [question] : []), ...answers]);
}

/** The first question: its name (lower case, no trailing dot), type, class and raw bytes. */
function readQuestion(query: Buffer): { name: string; type: number; qclass: number; bytes: Buffer } | null {
  const labels: string[] = [];
  let at = 12;
  for (;;) {
    const length = query[at];
    // Compression pointers (0xC0) have no place in a question a resolver sends; refuse them.
    if (length === undefined || length > 63) return null;
    at += 1;
    if (length === 0) break;
    if (at + length > query.length) return null;
    labels.push(query.toString('latin1', at, at + length).toLowerCase());
    at += length;
  }
  if (at + 4 > query.length) return null;
  return { name: labels.join('.'), type: query.readUInt16BE(at), qclass: query.readUInt16BE(at + 2), bytes: query.subarray(12, at + 4) };
}

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter((l) => l !== '');
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
}

function ipv4Bytes(address: string): Buffer {
  if (!net.isIPv4(address)) throw new Error(`not an IPv4 address in the test zone: ${address}`);
  return Buffer.from(address.split('.').map(Number));
}

function ipv6Bytes(address: string): Buffer {
  if (!net.isIPv6(address) || address.includes('.')) throw new Error(`not a plain IPv6 address in the test zone: ${address}`);
  const [head = '', tail] = address.split('::');
  const part = (s: string) => (s ? s.split(':') : []);
  const groups = tail === undefined
    ? part(head)
    : [...part(head), ...Array<string>(8 - part(head).length - part(tail).length).fill('0'), ...part(tail)];
  return Buffer.concat(groups.map((g) => u16(parseInt(g, 16))));
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
