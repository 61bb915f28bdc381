// What the user does to the queue (the window's queue page, `smtp-relay queue ...`): list, show, retry,
// delete. A message being changed is claimed, so the queue manager leaves it alone meanwhile.
import { RelayError, type MessageDetail, type QueueItem, type QueueList, type QueueQuery, type RecipientView } from '../api/contract.js';
import type { QueueManager } from '../deliver/queue-manager.js';
import type { MailLog } from '../log/mail-log.js';
import { selectEntries } from '../spool/query.js';
import type { QueueIndex } from '../spool/queue-index.js';
import type { Entry, Spool } from '../spool/spool.js';
import type { MessageState } from '../spool/state.js';

export interface QueueAdminOptions {
  spool: Spool;
  log: MailLog;
  /** The running queue manager; null when no relay runs (the CLI on its own). */
  queue: () => QueueManager | null;
  /** The queue page's index while the relay runs; without it, listing streams the spool. */
  index: () => QueueIndex | null;
  /** Counts or states changed (a status event follows). */
  changed: () => void;
}

export class QueueAdmin {
  /** Messages an API call is changing right now; the queue manager leaves them alone meanwhile. */
  private readonly claimed = new Set<string>();

  constructor(private readonly opts: QueueAdminOptions) {}

  isClaimed(id: string): boolean {
    return this.claimed.has(id);
  }

  async listQueue(query: QueueQuery = {}): Promise<QueueList> {
    const spool = this.opts.spool;
    const { entries, matched } = await selectEntries(spool, {
      offset: query.offset ?? 0, limit: query.limit ?? 100, filter: query.filter ?? 'all', search: query.search ?? '',
      sort: query.sort ?? 'status', order: query.order ?? 'asc',
    }, this.opts.index());
    const items: QueueItem[] = [];
    // The page's state files are read at once: one after another, 100 reads wait on a busy disk 100 times.
    const states = await (this.opts.index()?.loadPage(entries) ?? Promise.all(entries.map((e) => spool.load(e))));
    entries.forEach((e, i) => {
      const state = states[i];
      if (state && !items.some((item) => item.id === state.id)) items.push(this.toItem(e, state));
    });
    const s = spool.stats();
    return { items, total: s.queued + s.failed, matched };
  }

  async getMessage(id: string): Promise<MessageDetail> {
    const { entry, state } = await this.findMessage(id);
    return { ...this.toItem(entry, state), headers: await this.opts.spool.readHeaders(id) };
  }

  async bulk(action: 'retry' | 'delete', ids: string[]): Promise<{ done: number; problems: { id: string; message: string }[] }> {
    const problems: { id: string; message: string }[] = [];
    for (const id of ids) {
      try {
        await (action === 'retry' ? this.retry(id) : this.deleteMessage(id));
      } catch (e) {
        if (!(e instanceof RelayError)) throw e;
        problems.push({ id, message: e.message });
      }
    }
    return { done: ids.length - problems.length, problems };
  }

  async retry(id: string): Promise<void> {
    // Caught mid-attempt, the message is being tried right now: what was asked for.
    if (this.opts.queue()?.isActive(id)) return;
    await this.withMessage(id, async (entry, state) => {
      const now = Date.now();
      for (const r of state.rcpts) {
        if (r.st === 'd' || r.st === 'q' || (entry.kind === 'failed' && r.st === 'f')) {
          r.st = r.st === 'f' ? 'd' : r.st;
          r.next = now;
        }
      }
      await this.opts.spool.update(entry, state);
      this.opts.log.info(`id=${id} retry requested by the user`);
    });
    this.opts.queue()?.unblock();
  }

  async retryAll(): Promise<number> {
    const spool = this.opts.spool;
    this.opts.log.info(`retry of all ${spool.stats().queued} waiting messages requested by the user`);
    const qm = this.opts.queue();
    if (qm) {
      qm.flush(); // the running queue manager takes everything on its next pass
      return spool.stats().queued;
    }
    // No relay running (CLI): make every waiting message due now, so it goes first at start.
    const now = Date.now();
    for await (const e of spool.entries()) {
      if (e.kind !== 'queue' || e.due <= now) continue;
      const state = await spool.load(e);
      if (!state) continue;
      for (const r of state.rcpts) if (r.st === 'q' || r.st === 'd') r.next = now;
      await spool.update(e, state);
    }
    return spool.stats().queued;
  }

  async deleteMessage(id: string): Promise<void> {
    await this.withMessage(id, async (entry) => {
      await this.opts.spool.remove(entry);
      this.opts.log.info(`id=${id} deleted by the user`);
    });
    this.opts.changed();
  }

  /** A queue entry as the window and the CLI show it, with the next try the relay will really make. */
  private toItem(e: Entry, state: MessageState): QueueItem {
    const item = toItem(e, state);
    if (item.status === 'failed') return item;
    const qm = this.opts.queue();
    // Without a running relay (the CLI on its own) the schedule stands, from the moment the relay starts.
    if (!qm) return { ...item, held: 'the relay is not running' };
    const { blocked, unreachable, paused } = qm.status();
    let held: string | null = null;
    if (blocked) held = blocked.state === 'auth-failed' ? 'delivery is stopped until the sign-in to the smarthost is fixed' : 'delivery waits until the relay is set up';
    else if (paused) held = 'delivery is paused';
    else if (unreachable && item.nextAttempt !== null && unreachable.until > Date.now()) {
      // The message may be due, but nothing goes to the smarthost before its backoff ends.
      return { ...item, nextAttempt: Math.max(item.nextAttempt, unreachable.until), held: `${unreachable.host} is unreachable: waiting before connecting again` };
    }
    return held ? { ...item, nextAttempt: null, held } : item;
  }

  private async findMessage(id: string): Promise<{ entry: Entry; state: MessageState }> {
    const spool = this.opts.spool;
    // A message found under one name can move on before it is read (an attempt, a failure, a retry writes
    // the next generation and removes this one): then it is looked for again under its new name.
    for (let tries = 0; tries < 5; tries++) {
      const entry = await spool.find(id);
      if (!entry) break;
      const state = await spool.load(entry);
      if (state) return { entry, state };
    }
    throw new RelayError('not-found', `no message ${id} in the queue`);
  }

  /** Runs a change on one message while the queue manager is kept off it. */
  private async withMessage(id: string, change: (entry: Entry, state: MessageState) => Promise<void>): Promise<void> {
    if (this.opts.queue()?.isActive(id) || this.claimed.has(id)) throw new RelayError('busy', `message ${id} is being delivered right now; try again in a moment`);
    this.claimed.add(id);
    try {
      const { entry, state } = await this.findMessage(id);
      await change(entry, state);
    } finally {
      this.claimed.delete(id);
    }
    this.opts.changed();
  }
}

function toItem(e: Entry, state: MessageState): QueueItem {
  const recipients: RecipientView[] = state.rcpts.map((r) => ({
    address: r.a,
    status: ({ q: 'queued', d: 'deferred', s: 'sent', f: 'failed' } as const)[r.st],
    attempts: r.n,
    nextAttempt: r.st === 'q' || r.st === 'd' ? r.next : null,
    lastAttempt: r.at ?? null,
    lastReply: r.resp ?? null,
    relay: r.relay ?? null,
  }));
  const pending = recipients.filter((r) => r.nextAttempt !== null).map((r) => r.nextAttempt as number);
  const attempts = Math.max(0, ...state.rcpts.map((r) => r.n));
  return {
    id: state.id,
    status: e.kind === 'failed' ? 'failed' : attempts > 0 ? 'deferred' : 'queued',
    from: state.from, subject: state.subject, size: state.size, created: state.created, attempts,
    nextAttempt: pending.length ? Math.min(...pending) : null,
    held: null,
    messageId: state.mid ?? null,
    recipients,
  };
}
