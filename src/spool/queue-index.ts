// The queue page's index: for each message in the spool, where its state file is (the name carries
// status, due time and attempts) and the lower-case text a search looks in (recipients, sender, subject,
// Message-ID), one string per message. Built in the background from the state files when the relay
// starts, then kept current by the spool's change listener, so a page or a search of 100,000 messages
// reads memory, not 100,000 files. It serves listing only: delivery reads the spool, and every row
// shown is loaded from its state file, so the index can at worst list a message that has just left.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseFailedName, parseQueueName } from './names.js';
import { entryPath, type Entry, type Spool } from './spool.js';
import type { MessageState } from './state.js';

/** State files read at once while building (a disk queue depth, not a memory cost). */
export const READ_AHEAD = 32;

/** What a search looks in, lower-case: the recipients first (the first one is the recipient sort key). */
export function searchText(state: Partial<MessageState>): string {
  const rcpts = (state.rcpts ?? []).map((r) => r.a).join('\t');
  return `${rcpts}\n${state.from ?? ''}\n${state.subject ?? ''}\n${state.mid ?? ''}`.toLowerCase();
}

/** The first recipient in a search text. */
export function firstRecipient(text: string): string {
  const end = text.search(/[\t\n]/);
  return end < 0 ? text : text.slice(0, end);
}

export class QueueIndex {
  /** id -> "q/<bucket>/<name>" or "failed/<name>", a newline, then the search text. */
  private readonly rows = new Map<string, string>();
  /** Ids the spool reported while the index was being built: what the build read of them is older. */
  private changedDuringBuild: Set<string> | null = new Set();
  private stopped = false;

  constructor(private readonly spool: Spool) {}

  /** True once every state file has been read: until then a query streams the spool instead. */
  get ready(): boolean {
    return this.changedDuringBuild === null && !this.stopped;
  }

  get size(): number {
    return this.rows.size;
  }

  /** Reads every state file once, READ_AHEAD at a time; a file gone meanwhile was reported by the spool. */
  async build(): Promise<void> {
    let batch: Entry[] = [];
    const flush = async () => {
      const texts = await Promise.all(batch.map((e) => fs.readFile(entryPath(e), 'utf8').then((t) => searchText(JSON.parse(t) as Partial<MessageState>), () => null)));
      batch.forEach((e, i) => {
        const text = texts[i];
        if (text != null && !this.changedDuringBuild?.has(e.id)) this.rows.set(e.id, `${this.where(e)}\n${text}`);
      });
      batch = [];
    };
    for await (const e of this.spool.entries()) {
      if (this.stopped) return;
      batch.push(e);
      if (batch.length >= READ_AHEAD) await flush();
    }
    await flush();
    this.changedDuringBuild = null;
  }

  /** Ends a build in progress (the relay stops); the index answers no more queries. */
  stop(): void {
    this.stopped = true;
  }

  /** The spool's change listener: the message's new entry and state, or null when it left the spool. */
  changed(id: string, entry: Entry | null, state: MessageState | null): void {
    this.changedDuringBuild?.add(id);
    if (entry && state) this.rows.set(id, `${this.where(entry)}\n${searchText(state)}`);
    else this.rows.delete(id);
  }

  /** Every message indexed, with its search text. */
  *entries(): Generator<{ entry: Entry; text: string }> {
    for (const [id, row] of this.rows) {
      const cut = row.indexOf('\n');
      const entry = this.entryAt(id, row.slice(0, cut));
      if (entry) yield { entry, text: row.slice(cut + 1) };
    }
  }

  private where(e: Entry): string {
    return e.kind === 'queue' ? `q/${path.basename(e.dir)}/${e.name}` : `failed/${e.name}`;
  }

  private entryAt(id: string, where: string): Entry | null {
    const slash = where.lastIndexOf('/');
    const name = where.slice(slash + 1);
    if (where.startsWith('failed/')) {
      const f = parseFailedName(name);
      return f && { kind: 'failed', dir: this.spool.paths.failed, name, ...f };
    }
    const q = parseQueueName(name);
    if (!q || q.id !== id) return null;
    return { kind: 'queue', dir: path.join(this.spool.paths.q, where.slice(2, slash)), name, ...q };
  }
}

/** Starts a queue index for a running relay: told of every change from now on, built in the background. */
export function startQueueIndex(spool: Spool, log: { info(text: string): void; warn(text: string): void }): QueueIndex {
  const index = new QueueIndex(spool);
  spool.onChanged = (id, entry, state) => index.changed(id, entry, state);
  const started = Date.now();
  index.build().then(
    () => { if (index.ready) log.info(`queue index ready: ${index.size} messages in ${Date.now() - started} ms`); },
    (e: unknown) => log.warn(`queue index not built, the queue page reads the spool instead: ${(e as Error).message}`),
  );
  return index;
}
