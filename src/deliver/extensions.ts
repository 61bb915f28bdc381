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

/** A nodemailer logger (with transactionLog) calling `observe` for every entry. */
export function transactionLogger(observe: LogFn): Record<string, LogFn> {
  return Object.fromEntries(['trace', 'debug', 'info', 'warn', 'error', 'fatal'].map((level) => [
    level, (entry, message) => observe(entry ?? {}, typeof message === 'string' ? message : ''),
  ]));
}

/** The extensions an EHLO reply announces: every line but the greeting ("250-8BITMIME", "250 SMTPUTF8"). */
export function ehloExtensions(reply: string): Set<string> {
  return new Set(reply.split(/\r?\n/).slice(1).map((l) => (l.slice(4).split(' ')[0] ?? '').toUpperCase()));
}

const NON_ASCII = /[\u0080-\uffff]/;

/**
 * The outcome that returns the message, when `extensions` lacks what it needs; null when it may be
 * sent (or when nothing is known: the attempt then goes ahead as before). Checked when MAIL FROM is
 * about to go out on the connection (conversation.ts), which then closes before anything is sent.
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
