// Postfix's bounce(8): a delivery status notification back to the sender, queued through the same
// spool as any other message, from the null sender so that it is never bounced in turn.
import type { MailLog } from '../log/mail-log.js';
import { enqueue } from '../inject/enqueue.js';
import type { CorruptEntry, Spool } from '../spool/spool.js';
import type { MessageState, RecipientState } from '../spool/state.js';
import { buildDsn, type DsnKind } from './dsn.js';

export class BounceComposer {
  /** `hostname`: this relay's name (Reporting-MTA, the From address's domain). */
  constructor(private readonly spool: Spool, private readonly log: MailLog, private readonly hostname: string) {}

  /** Queues a delivery status notification to the sender of `state`. */
  async report(kind: DsnKind, state: MessageState, recipients: RecipientState[], headers?: string): Promise<void> {
    const text = buildDsn({ kind, hostname: this.hostname, state, recipients, headers: headers ?? await this.spool.readHeaders(state.id) });
    const subject = kind === 'failed' ? 'Undelivered Mail Returned to Sender' : 'Delayed Mail';
    const { id } = await enqueue(this.spool, () => ({ text, envelope: { from: '', to: [state.from], client: { ip: '127.0.0.1', helo: 'dsn' }, subject } }));
    this.log.info(`id=${state.id} sender ${kind === 'failed' ? 'non-delivery' : 'delay'} notification: ${id} to=<${state.from}> for ${recipients.map((r) => `<${r.a}>`).join(',')}`);
  }

  /**
   * An entry could not be read and went to corrupt/: a bounce for its waiting recipients when the
   * envelope is still readable (the content is not sent: it may be cut short).
   */
  async corrupted(c: CorruptEntry): Promise<void> {
    const state = c.state;
    if (!state || state.from === '') return; // nobody to tell, or a bounce: bounces are never bounced
    const waiting = state.rcpts.filter((r) => r.st === 'q' || r.st === 'd');
    for (const r of waiting) {
      r.st = 'f';
      r.esc = '5.3.0';
      r.resp = `5.3.0 the message was damaged in the relay's queue and was not sent (${c.reason}); the administrator finds it in corrupt/`.slice(0, 512);
    }
    if (waiting.length) await this.report('failed', state, waiting, c.headers);
  }
}
