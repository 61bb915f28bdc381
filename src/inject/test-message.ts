// The test message of `send-test` and the settings window: a short plain-text mail queued like any other.
import { RelayError } from '../api/contract.js';
import type { Config } from '../config/schema.js';
import { receivedLine, type MailLog } from '../log/mail-log.js';
import { headerField, mailbox, unstructured } from '../mail/header-field.js';
import { rfc5322Date } from '../mail/date.js';
import type { Spool } from '../spool/spool.js';
import { enqueue } from './enqueue.js';

const SUBJECT = 'SMTP Relay Tray test message';

/** Queues a test message to `to` from the smarthost account (or smtp-relay@hostname); returns its id. */
export async function queueTestMessage(spool: Spool, log: MailLog, config: Config, hostname: string, to: string): Promise<string> {
  const user = config.smarthost.auth.username;
  const from = user.includes('@') ? user : `smtp-relay@${hostname}`;
  const { id, size } = await enqueue(spool, (id) => {
    let head: string[];
    try {
      head = [
        headerField('From', mailbox(from, 'SMTP Relay Tray')), headerField('To', mailbox(to)), headerField('Subject', unstructured(SUBJECT)),
        headerField('Date', rfc5322Date(new Date())), headerField('Message-ID', `<${id}@${hostname}>`),
      ];
    } catch (e) {
      throw new RelayError('invalid', (e as Error).message);
    }
    const text = [
      ...head, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '',
      `This test message was sent by SMTP Relay Tray on ${hostname} through ${config.smarthost.host || '(no smarthost)'}.`,
      'If you can read it, applications on that server can send mail through the relay.', '',
    ].join('\r\n');
    return { text, envelope: { from, to: [to], client: { ip: '127.0.0.1', helo: 'send-test' }, subject: SUBJECT, messageId: `${id}@${hostname}` } };
  });
  log.info(receivedLine({ id, from, to: [to], messageId: `${id}@${hostname}`, size, client: 'send-test' }));
  return id;
}
