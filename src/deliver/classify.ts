// Turns what nodemailer reports for one message into an AttemptOutcome, recipient by recipient.
// RFC 5321 §4.2.1: 4yz is transient (defer), 5yz permanent (fail); no reply at all is transient.
// Kept apart from the smarthost pool so any nodemailer-based transport (MX delivery too) shares it.
import { domainToASCII } from 'node:url';
import type { NodemailerError } from 'nodemailer';
import { printable } from '../log/mail-log.js';
import type { AttemptOutcome, RecipientOutcome, RecipientVerdict } from './outcome.js';

export interface Attempt {
  /** The envelope recipients as the spool knows them. */
  recipients: string[];
  relay: string;
  /** The whole body went to the connection, so the final dot may have reached the server. */
  bodySent: boolean;
}

/** What nodemailer resolves with when at least one recipient was accepted. */
export interface SentInfo {
  accepted: string[];
  rejectedErrors?: NodemailerError[];
  response: string;
}

// Only replies to these commands judge the message; a reply to CONN/EHLO/STARTTLS/RSET judges the server.
const TRANSACTION_COMMANDS = new Set(['MAIL FROM', 'RCPT TO', 'DATA']);

export function outcomeOfSuccess(attempt: Attempt, info: SentInfo): AttemptOutcome {
  const accepted = new Set(info.accepted.map(addressKey));
  const recipients = eachRecipient(attempt.recipients, info.rejectedErrors, (address) =>
    accepted.has(addressKey(address))
      ? recipient(address, 'sent', info.response)
      // Unreachable unless nodemailer rewrites an address beyond what addressKey undoes; retrying
      // risks a duplicate, calling it sent risks losing it.
      : recipient(address, 'deferred', 'the SMTP client reported no result for this recipient'));
  return { relay: attempt.relay, recipients };
}

export function outcomeOfError(attempt: Attempt, err: NodemailerError): AttemptOutcome {
  const { relay } = attempt;
  const all = (verdict: RecipientVerdict, text: string, enhanced?: string) =>
    attempt.recipients.map((address) => recipient(address, verdict, text, enhanced));
  const code = err.responseCode;
  const reply = err.response ?? err.message;

  // 530 "authentication required" (Microsoft 365: "Client not authenticated … during MAIL FROM") is
  // a configuration problem like a refused login, not a reason to bounce the message.
  if (err.code === 'EAUTH' || code === 530) {
    return { relay, authFailure: true, recipients: all('deferred', reply) };
  }
  // nodemailer's own check against the server's SIZE: permanent although the server never spoke.
  if (err.code === 'EMESSAGE' && code === undefined) {
    return { relay, recipients: all('failed', `message too large for the server: ${err.message}`, '5.3.4') };
  }
  if (err.rejectedErrors?.length || (code !== undefined && code !== 421 && TRANSACTION_COMMANDS.has(err.command ?? ''))) {
    const verdict = verdictOf(code, err.command);
    return { relay, recipients: eachRecipient(attempt.recipients, err.rejectedErrors, (address) => recipient(address, verdict, reply)) };
  }
  if (code === undefined && attempt.bodySent) {
    // RFC 5321 §4.5.3.2.6: the server may hold the message; the retry this causes may duplicate it.
    return { relay, maybeDelivered: true, recipients: all('deferred', `no reply after the end of the message, the server may have accepted it: ${err.message}`) };
  }
  // Refused, timed out, TLS failed, 4xx/5xx greeting, 421: the destination, not this message.
  // A reply to EHLO or STARTTLS says little without the command ("500 command not recognized").
  const inReplyTo = err.response && err.command && err.command !== 'CONN' ? ` (in reply to ${err.command})` : '';
  return { relay, destinationFailure: true, recipients: all('deferred', reply + inReplyTo) };
}

/** Recipients refused at RCPT get their own reply; the rest get `otherwise`. */
function eachRecipient(recipients: string[], rejectedErrors: NodemailerError[] = [], otherwise: (address: string) => RecipientOutcome): RecipientOutcome[] {
  const rejected = new Map(rejectedErrors.map((e) => [addressKey(e.recipient ?? ''), e]));
  return recipients.map((address) => {
    const e = rejected.get(addressKey(address));
    return e ? recipient(address, verdictOf(e.responseCode, 'RCPT TO'), e.response ?? e.message) : otherwise(address);
  });
}

function verdictOf(code: number | undefined, command: string | undefined): RecipientVerdict {
  // 552 at RCPT means "too many recipients" (RFC 5321 §4.5.3.1.10): send the rest later.
  if (code !== undefined && code >= 500 && code < 600 && !(code === 552 && command === 'RCPT TO')) return 'failed';
  return 'deferred';
}

function recipient(address: string, verdict: RecipientVerdict, text: string, enhanced?: string): RecipientOutcome {
  const response = printable(text.replace(/\s*[\r\n]+\s*/g, ' ').trim()).slice(0, 512);
  const match = /^(\d{3})(?:[ -]([245]\.\d{1,3}\.\d{1,3})(?!\S))?/.exec(response);
  const result: RecipientOutcome = { address, verdict, response };
  if (match?.[1]) result.code = Number(match[1]);
  const status = enhanced ?? match?.[2];
  if (status) result.enhanced = status;
  return result;
}

/**
 * nodemailer lower-cases and punycodes the domain of every envelope address, so the addresses it
 * reports can differ from ours; compare in that form. The local part keeps its case (RFC 5321 §2.4):
 * B@y.test and b@y.test may be two mailboxes with two different replies.
 */
function addressKey(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return address;
  const domain = address.slice(at + 1);
  return `${address.slice(0, at)}@${(domainToASCII(domain) || domain).toLowerCase()}`;
}
