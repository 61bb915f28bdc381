// What the receiver needs from a message's header section as it streams past: the Received: count
// (mail loop detection, Postfix's hopcount_limit) and the Subject for the queue view. Only the header
// section is buffered, and only up to a cap, so a huge body costs nothing here.

const HEADER_CAP = 256 * 1024;

export class HeaderScanner {
  private chunks: Buffer[] = [];
  private length = 0;
  private done = false;
  received = 0;
  subject = '';
  /** The Message-ID without <>, '' when there is none. */
  messageId = '';

  push(chunk: Buffer): void {
    if (this.done) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    const end = headerEnd(all);
    if (end >= 0 || all.length >= HEADER_CAP) this.finish(all.subarray(0, end >= 0 ? end : HEADER_CAP));
  }

  /** Call at the end of the data, for a message that is all headers. */
  end(): void {
    if (!this.done) this.finish(Buffer.concat(this.chunks));
  }

  private finish(header: Buffer): void {
    this.done = true;
    this.chunks = [];
    const text = header.toString('latin1').replace(/\r?\n[ \t]+/g, ' '); // unfold continuation lines
    for (const line of text.split(/\r?\n/)) {
      if (/^received:/i.test(line)) this.received++;
      else if (!this.subject && /^subject:/i.test(line)) this.subject = line.slice(8).trim().slice(0, 200);
      else if (!this.messageId && /^message-id:/i.test(line)) this.messageId = line.slice(11).trim().replace(/^<|>$/g, '').replace(/[^\x21-\x7e]/g, '').slice(0, 200);
    }
  }
}

/** Offset of the blank line that ends the header section, or -1 if not seen yet. */
function headerEnd(buf: Buffer): number {
  if (buf[0] === 0x0d && buf[1] === 0x0a) return 0;
  if (buf[0] === 0x0a) return 0;
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf < 0) return lf;
  return lf < 0 ? crlf : Math.min(crlf, lf);
}

export interface ReceivedInfo {
  helo: string;
  ip: string;
  hostname: string;
  protocol: string;
  id: string;
  /** The recipient, named only when there is exactly one (as Postfix does, to not disclose Bcc lists). */
  rcpt?: string;
  date?: Date;
}

/** The trace header we prepend (RFC 5321 §4.4), in Postfix's shape. */
export function receivedHeader(r: ReceivedInfo): string {
  const helo = r.helo.replace(/[^\x21-\x7e]/g, '') || 'unknown';
  const forPart = r.rcpt ? `\r\n\tfor <${r.rcpt}>` : '';
  return `Received: from ${helo} ([${r.ip}])\r\n\tby ${r.hostname} (SMTP Relay Tray) with ${r.protocol} id ${r.id}${forPart};\r\n\t${rfc5322Date(r.date ?? new Date())}\r\n`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function rfc5322Date(d: Date): string {
  const off = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + off * 60_000);
  const p = (n: number) => String(n).padStart(2, '0');
  const zone = `${off >= 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
  return `${DAYS[local.getUTCDay()]}, ${local.getUTCDate()} ${MONTHS[local.getUTCMonth()]} ${local.getUTCFullYear()} ` +
    `${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())} ${zone}`;
}
