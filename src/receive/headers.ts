// The header section of a message as it streams past (Postfix's cleanup): counts Received: lines
// (mail loop detection, hopcount_limit), keeps the Subject for the queue view, and repairs what bare
// scripts send:
//  - A line that is neither a header field nor a continuation ends the header section; the missing
//    blank line is inserted before it (Python's parser would flag MissingHeaderBodySeparatorDefect).
//  - Text that only looks like header fields ("Warning: disk /var is 97% full" piped from a script)
//    is body text unless one of its fields is a real message field (From, Subject, Content-Type, X-…):
//    such lines are held until that is known, then stored after the blank line.
//  - Date:, Message-ID: and From: (the envelope sender) are added at the end of the header section
//    when absent, as Postfix does for local submissions: monitoring scripts and printers leave them
//    out, and Gmail refuses mail without a Message-ID.
// Each byte is looked at once, and at most HEADER_CAP bytes are held, so the cost is linear.
import { headerField } from '../mail/header-field.js';
import { rfc5322Date } from '../mail/date.js';

/** Past this many bytes of header section, the rest is taken as it is (nothing inserted). */
const HEADER_CAP = 256 * 1024;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');

/** Field names that make the lines before the first non-field line a header section. */
const MESSAGE_FIELD = /^(?:from|sender|reply-to|to|cc|bcc|subject|date|message-id|in-reply-to|references|mime-version|received|return-path|comments|keywords|importance|priority|(?:x|content|resent|list|arc|dkim|authentication)-.*)$/;

export interface MissingHeaders {
  /** Arrival time, for a missing Date:. */
  date: Date;
  /** The Message-ID to add, without angle brackets ("<queue id>@<host name>"). */
  messageId: string;
  /** Envelope sender, for a missing From:; '' (the null sender) adds none. */
  from: string;
}

interface Line {
  bytes: Buffer;
  /** Lower-cased field name; '' for a continuation line. */
  name: string;
  text: string;
}

export class HeaderSection {
  received = 0;
  subject = '';
  /** The Message-ID without <> (the message's own, or the one added), for the log and the queue search. */
  messageId = '';
  private done = false;
  /** A real message field was seen: the lines so far are headers. */
  private isHeader = false;
  private bytes = 0;
  /** The current line's pieces, when a chunk ended inside it. */
  private partial: Buffer[] = [];
  /** Field-like lines not yet known to be headers. */
  private held: Line[] = [];
  /** Name of the field the last header line belonged to (Subject continuations). */
  private field = '';
  private readonly seen = new Set<string>();

  constructor(private readonly missing: MissingHeaders) {}

  /** The chunk as it is to be stored: parts of it, with headers and a blank line inserted where needed. */
  push(chunk: Buffer): Buffer[] {
    if (this.done) return [chunk];
    const out: Buffer[] = [];
    let start = 0;
    while (!this.done && start < chunk.length) {
      const nl = chunk.indexOf(LF, start);
      const end = nl < 0 ? chunk.length : nl + 1;
      this.partial.push(chunk.subarray(start, end));
      this.bytes += end - start;
      start = end;
      if (nl >= 0) {
        const line = this.partial.length === 1 ? this.partial[0] as Buffer : Buffer.concat(this.partial);
        this.partial = [];
        this.take(line, out);
      }
      if (!this.done && this.bytes >= HEADER_CAP) this.giveUp(out);
    }
    if (start < chunk.length) out.push(chunk.subarray(start));
    return out;
  }

  /** Call at the end of the data: a message that is all header section still gets what is missing. */
  end(): Buffer[] {
    const out: Buffer[] = [];
    if (!this.done && this.partial.length) {
      // The last line lacks its line end: it gets one, so that what follows starts a line.
      const line = Buffer.concat([...this.partial, CRLF]);
      this.partial = [];
      this.take(line, out);
    }
    if (!this.done) {
      this.done = true;
      out.push(this.additions());
      if (this.held.length) out.push(CRLF, ...this.held.map((l) => l.bytes)); // not headers after all: body
      this.held = [];
    }
    return out.filter((b) => b.length > 0);
  }

  private take(bytes: Buffer, out: Buffer[]): void {
    const text = bytes.toString('latin1').replace(/\r?\n$/, '');
    if (text === '') {
      this.commit(out);
      out.push(this.additions(), bytes);
      this.done = true;
      return;
    }
    const continuation = /^[ \t]/.test(text) && (this.held.length > 0 || this.field !== '');
    const name = continuation ? '' : /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/.exec(text)?.[1]?.toLowerCase();
    if (name === undefined) {
      // Not a header line: the body starts here, after the added fields and the missing blank line.
      out.push(this.additions(), CRLF, ...this.held.map((l) => l.bytes), bytes);
      this.held = [];
      this.done = true;
      return;
    }
    this.held.push({ bytes, name, text });
    if (this.isHeader || MESSAGE_FIELD.test(name)) this.commit(out);
  }

  /** The held lines are headers: count them and let them out. */
  private commit(out: Buffer[]): void {
    this.isHeader = true;
    for (const l of this.held) {
      out.push(l.bytes);
      if (l.name === '') {
        if (this.field === 'subject') this.subject = `${this.subject} ${l.text.trim()}`.trim().slice(0, 200);
        continue;
      }
      this.field = l.name;
      this.seen.add(l.name);
      if (l.name === 'received') this.received++;
      else if (l.name === 'subject' && !this.subject) this.subject = l.text.slice(l.text.indexOf(':') + 1).trim().slice(0, 200);
      else if (l.name === 'message-id' && !this.messageId) this.messageId = l.text.slice(l.text.indexOf(':') + 1).trim().replace(/^<|>$/g, '').replace(/[^\x21-\x7e]/g, '').slice(0, 200);
    }
    this.held = [];
  }

  /** A header section too large to be one: taken as it is. */
  private giveUp(out: Buffer[]): void {
    this.commit(out);
    out.push(...this.partial);
    this.partial = [];
    this.done = true;
  }

  /** The header lines to add, for the fields the message lacks. */
  private additions(): Buffer {
    const m = this.missing;
    let add = '';
    if (!this.seen.has('date')) add += `Date: ${rfc5322Date(m.date)}\r\n`;
    if (!this.seen.has('message-id')) {
      add += `Message-ID: <${m.messageId}>\r\n`;
      this.messageId = m.messageId;
    }
    if (!this.seen.has('from') && m.from) add += `From: <${m.from}>\r\n`;
    return Buffer.from(add, 'utf8'); // a UTF-8 sender (SMTPUTF8) stays UTF-8
  }
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
  const by = `by ${r.hostname} (SMTP Relay Tray) with ${r.protocol} id ${r.id}`;
  const parts = [`from ${helo} ([${r.ip}])`, r.rcpt ? by : `${by};`, ...(r.rcpt ? [`for <${r.rcpt}>;`] : []), rfc5322Date(r.date ?? new Date())];
  return `${headerField('Received', ...parts)}\r\n`;
}
