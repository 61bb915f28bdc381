// Delivery status notifications (RFC 3464 multipart/report): the "Undelivered Mail Returned to Sender"
// that tells the sending application's owner what happened, as Postfix's bounce(8) does.
import crypto from 'node:crypto';
import { CONTROL_CHARACTER, headerField, mailbox, unstructured } from '../mail/header-field.js';
import { rfc5322Date } from '../mail/date.js';
import type { MessageState, RecipientState } from '../spool/state.js';

export type DsnKind = 'failed' | 'delayed';

export interface DsnInput {
  kind: DsnKind;
  /** This relay's name (Reporting-MTA, the From address's domain). */
  hostname: string;
  state: MessageState;
  /** The recipients the report is about, with their last reply. */
  recipients: RecipientState[];
  /** The original message's header section, returned as text/rfc822-headers. */
  headers: string;
  now?: Date;
}

/** The complete DSN message (CRLF line ends), ready to be queued with MAIL FROM:<> to state.from. */
export function buildDsn(d: DsnInput): string {
  const now = d.now ?? new Date();
  const boundary = `=_report_${crypto.randomBytes(9).toString('base64url')}`;
  const failed = d.kind === 'failed';
  const subject = failed ? 'Undelivered Mail Returned to Sender' : 'Delayed Mail (still being retried)';
  const lines = (d.recipients.map((r) => `<${r.a}>: ${oneLine(r.resp ?? 'no reply')}`));
  const human = failed
    ? [
      `This is the mail system at host ${d.hostname}.`, '',
      'I\'m sorry to have to inform you that your message could not be delivered to one or more',
      'recipients. It\'s attached below.', '',
      'For further assistance, please contact the administrator of this computer.', '',
      ...lines,
    ]
    : [
      `This is the mail system at host ${d.hostname}.`, '',
      '####################################################################',
      '# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #',
      '####################################################################', '',
      'Your message could not be delivered yet. The mail system will keep trying',
      'and will tell you if it gives up.', '',
      ...lines,
    ];
  const perMessage = [
    `Reporting-MTA: dns; ${d.hostname}`,
    `X-Queue-ID: ${d.state.id}`,
    `Arrival-Date: ${rfc5322Date(new Date(d.state.created))}`,
  ];
  const perRecipient = d.recipients.map((r) => [
    `Final-Recipient: rfc822; ${r.a}`,
    `Action: ${failed ? 'failed' : 'delayed'}`,
    `Status: ${statusOf(r, d.kind)}`,
    ...(r.relay ? [headerField('Remote-MTA', `dns; ${oneLine(r.relay.replace(/\[.*$|:\d+$/, ''))}`)] : []),
    ...(r.resp ? [headerField('Diagnostic-Code', `${r.code ? 'smtp' : 'x-unix'}; ${oneLine(r.resp)}`)] : []),
    ...(r.at ? [`Last-Attempt-Date: ${rfc5322Date(new Date(r.at))}`] : []),
  ].join('\r\n'));
  return [
    headerField('From', mailbox(`MAILER-DAEMON@${d.hostname}`, 'Mail Delivery System')),
    headerField('To', mailbox(d.state.from)),
    headerField('Subject', unstructured(subject)),
    headerField('Date', rfc5322Date(now)),
    headerField('Message-ID', `<${d.state.id}.${now.getTime()}.dsn@${d.hostname}>`),
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${boundary}`,
    'Content-Description: Notification',
    'Content-Type: text/plain; charset=utf-8',
    '',
    ...human,
    '',
    `--${boundary}`,
    'Content-Description: Delivery report',
    'Content-Type: message/delivery-status',
    '',
    perMessage.join('\r\n'),
    '',
    perRecipient.join('\r\n\r\n'),
    '',
    `--${boundary}`,
    'Content-Description: Undelivered Message Headers',
    'Content-Type: text/rfc822-headers',
    '',
    d.headers.replace(/\r?\n/g, '\r\n'),
    '',
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

/** A remote server's reply as one line: whatever control characters it sent become spaces. */
function oneLine(text: string): string {
  return text.replace(new RegExp(CONTROL_CHARACTER.source, 'gu'), ' ');
}

/** The RFC 3463 status: the server's enhanced code when it gave one, else one from the reply class. */
function statusOf(r: RecipientState, kind: DsnKind): string {
  if (r.esc && (kind === 'delayed' ? r.esc.startsWith('4') : r.esc.startsWith('5'))) return r.esc;
  if (kind === 'delayed') return '4.0.0';
  return r.esc?.replace(/^4/, '5') ?? '5.0.0';
}
