// What a message needs from the next hop, and what the next hop announces in its EHLO reply.
// RFC 6152: 8-bit content goes with BODY=8BITMIME, to a server that announces 8BITMIME. RFC 6531: a
// UTF-8 address goes only to a server that announces SMTPUTF8 (MAIL FROM then says SMTPUTF8).
// nodemailer adds both parameters when the server announces them; when it does not, the message is
// returned to its sender rather than sent anyway: 5.6.7 for SMTPUTF8 as Postfix does, and 5.6.3 for
// 8-bit content, which the relay does not convert to 7-bit (Postfix converts; every smarthost in use
// today announces 8BITMIME, and a conversion that touches MIME parts would break DKIM signatures).
import type { AttemptOutcome } from './outcome.js';

/** The flags the spool carries from receive to delivery (state.ts), with the envelope. */
export interface MessageNeeds {
  from: string;
  to: string[];
  /** 8-bit content (BODY=8BITMIME declared, or bytes above 127 seen). */
  eightBit?: boolean;
  /** The client sent MAIL FROM with SMTPUTF8: the headers may be UTF-8 too (RFC 6531 §3.4). */
  smtputf8?: boolean;
}

type LogFn = (entry: { tnx?: string; sid?: string; messageId?: string }, message: string) => void;
export type NodemailerLogger = Record<string, LogFn>;

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** A nodemailer logger (with transactionLog) calling `observe` for every entry. */
export function transactionLogger(observe: LogFn): NodemailerLogger {
  return Object.fromEntries(LEVELS.map((level) => [level, (entry, message) => observe(entry ?? {}, typeof message === 'string' ? message : '')]));
}

/** A logger that passes every entry to each of `loggers`. */
export function bothLoggers(...loggers: NodemailerLogger[]): NodemailerLogger {
  return transactionLogger((entry, message) => { for (const l of loggers) l.info?.(entry, message); });
}

/** The extensions the server announced in its last EHLO reply, read from the transaction log. */
export class Announced {
  extensions: Set<string> | null = null;
  /** Connections whose EHLO awaits its reply. */
  private readonly asked = new Set<string>();
  readonly logger = transactionLogger((entry, message) => {
    const sid = entry.sid ?? '';
    if (entry.tnx === 'client') {
      if (/^EHLO\b/i.test(message)) this.asked.add(sid);
      else this.asked.delete(sid);
    } else if (entry.tnx === 'server' && this.asked.delete(sid) && /^250/.test(message)) {
      // The first line greets; each further one names an extension ("250-8BITMIME", "250 SMTPUTF8").
      this.extensions = new Set(message.split(/\r?\n/).slice(1).map((l) => (l.slice(4).split(' ')[0] ?? '').toUpperCase()));
    }
  });
}

const NON_ASCII = /[\u0080-\uffff]/;

/** The message cannot go out as it is without an extension the next hop may lack. */
export function needsExtensions(m: MessageNeeds): boolean {
  return m.eightBit === true || m.smtputf8 === true || NON_ASCII.test(m.from) || m.to.some((a) => NON_ASCII.test(a));
}

/**
 * The outcome that returns the message, when `extensions` lacks what it needs; null when it may be
 * sent (or when nothing is known: the attempt then goes ahead as before).
 */
export function refusal(m: MessageNeeds, extensions: Set<string> | null, relay: string): AttemptOutcome | null {
  if (!extensions) return null;
  const utf8 = [m.from, ...m.to].find((a) => NON_ASCII.test(a));
  const fail = (enhanced: string, response: string): AttemptOutcome => ({
    relay, recipients: m.to.map((address) => ({ address, verdict: 'failed', enhanced, response })),
  });
  if ((utf8 !== undefined || m.smtputf8) && !extensions.has('SMTPUTF8')) {
    const what = utf8 !== undefined ? `for <${utf8}>` : 'by the sender';
    return fail('5.6.7', `5.6.7 SMTPUTF8 is required ${what}, but was not offered by host ${relay} (RFC 6531)`);
  }
  if (m.eightBit && !extensions.has('8BITMIME')) {
    return fail('5.6.3', `5.6.3 the message has 8-bit content, but host ${relay} does not offer 8BITMIME and the relay does not convert it to 7-bit (RFC 6152)`);
  }
  return null;
}
