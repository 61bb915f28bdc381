// The queue page's index: for each message in the spool, where its state file is (the name carries
// status, due time and attempts) and the lower-case text a search looks in (recipients, sender, subject,
// Message-ID), one string per message. Built in the background from the state files when the relay
// starts, then kept current by the spool's change listener, so a page or a search of 100,000 messages
// reads memory, not 100,000 files. It serves listing only: delivery reads the spool, and every row
// shown is loaded from its state file, so the index can at worst list a message that has just left.
import fs from 'node:fs/promises';
import path from 'node:path';
import { failedName, queueName } from './names.js';
import { entryPath, type Entry, type Spool } from './spool.js';
import type { MessageState } from './state.js';

/** State files read at once while building (a disk queue depth, not a memory cost). */
export const READ_AHEAD = 32;

/**
 * Messages indexed at most: about 210 bytes each (measured), so the index stays under ~32 MB. A larger
 * queue is listed by streaming the spool again (slow, but memory does not grow with the queue).
 */
export const MAX_INDEXED = 150_000;

/** What a search looks in, lower-case: the recipients first (the first one is the recipient sort key). */
export function searchText(state: Partial<MessageState>): string {
  const rcpts = (state.rcpts ?? []).map((r) => r.a).join('\t');
  return `${rcpts}\n${state.from ?? ''}\n${state.subject ?? ''}\n${state.mid ?? ''}`.toLowerCase();
}

/** The first recipient in a search text (which starts at `from`). */
export function firstRecipient(text: string, from = 0): string {
  let end = from;
  while (end < text.length && text[end] !== '\t' && text[end] !== '\n') end++;
  return text.slice(from, end);
}

export class QueueIndex {
  /**
   * id -> where the state file is ("q/<bucket>/<due>_<gen>_<attempts>" or "failed/<gen>": the name without
   * the id, which is the key), a newline, then the search text. One flat string per message: a string built
   * with + or a template is a rope of its pieces in V8, which would hold twice the memory.
   */
  private readonly rows = new Map<string, string>();
  /** Ids the spool reported while the index was being built: what the build read of them is older. */
  private changedDuringBuild: Set<string> | null = new Set();
  private stopped = false;
  /** The states of the last page listed, by id, with where each was read. */
  private lastPage = new Map<string, { where: string; state: MessageState }>();
  /** More than `limit` messages: the index is dropped for good (until the relay restarts). */
  tooLarge = false;

  constructor(private readonly spool: Spool, private readonly limit = MAX_INDEXED) {}

  /** True once every state file has been read: until then (or when dropped) a query streams the spool instead. */
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
        if (text != null && !this.changedDuringBuild?.has(e.id)) this.set(e.id, row(e, text));
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

  /**
   * The states of a page of entries: those the last page read from the same place are reused (a state
   * file is never changed, a change is a new file), the others loaded (and checked) by the spool. A page
   * re-read while mail is delivered then costs the disk only the rows that moved.
   */
  async loadPage(entries: Entry[]): Promise<(MessageState | null)[]> {
    const states = await Promise.all(entries.map((e) => {
      const seen = this.lastPage.get(e.id);
      return seen && seen.where === whereOf(e) ? seen.state : this.spool.load(e);
    }));
    this.lastPage = new Map();
    entries.forEach((e, i) => {
      const state = states[i];
      if (state) this.lastPage.set(e.id, { where: whereOf(e), state });
    });
    return states;
  }

  /** Ends a build in progress (the relay stops); the index answers no more queries. */
  stop(): void {
    this.stopped = true;
    this.rows.clear();
  }

  private set(id: string, r: string): void {
    if (this.stopped) return;
    this.rows.set(id, r);
    if (this.rows.size > this.limit) {
      this.tooLarge = true;
      this.stop();
    }
  }

  /** The spool's change listener: the message's new entry and state, or null when it left the spool. */
  changed(id: string, entry: Entry | null, state: MessageState | null): void {
    this.changedDuringBuild?.add(id);
    if (entry && state) this.set(id, row(entry, searchText(state)));
    else this.rows.delete(id);
  }

  /**
   * Every message indexed, as stored: its id, its row (where the state file is, a newline, the search
   * text) and where in the row the search text starts. Nothing is copied, so a query of 100,000 costs
   * only the looking.
   */
  forEachRow(visit: (id: string, row: string, textAt: number) => void): void {
    for (const [id, r] of this.rows) visit(id, r, r.indexOf('\n') + 1);
  }

  /** The spool entry of an indexed message, from its id and row. */
  entryOf(id: string, row: string): Entry {
    const [dir, due, gen, attempts] = row.slice(0, row.indexOf('\n')).split('/');
    if (dir === 'failed') return { kind: 'failed', dir: this.spool.paths.failed, name: failedName({ id, gen: Number(due) }), id, gen: Number(due) };
    const q = { due: Number(due), id, gen: Number(gen), attempts: Number(attempts) };
    return { kind: 'queue', dir: path.join(this.spool.paths.q, dir as string), name: queueName(q), ...q };
  }
}

/** Where an entry's state file is, as the index writes it (see QueueIndex.rows). */
function whereOf(e: Entry): string {
  return (e.kind === 'queue' ? [path.basename(e.dir), e.due, e.gen, e.attempts] : ['failed', e.gen]).join('/');
}

/** The index's string for a message; join() makes it one flat string. */
function row(e: Entry, text: string): string {
  return [whereOf(e), text].join('\n');
}

/** Starts a queue index for a running relay: told of every change from now on, built in the background. */
export function startQueueIndex(spool: Spool, log: { info(text: string): void; warn(text: string): void }): QueueIndex {
  const index = new QueueIndex(spool);
  spool.onChanged = (id, entry, state) => index.changed(id, entry, state);
  const started = Date.now();
  index.build().then(
    () => {
      if (index.ready) log.info(`queue index ready: ${index.size} messages in ${Date.now() - started} ms`);
      else if (index.tooLarge) log.warn(`queue index dropped: more than ${MAX_INDEXED} messages queued; the queue page reads the spool instead (slower)`);
    },
    (e: unknown) => log.warn(`queue index not built, the queue page reads the spool instead: ${(e as Error).message}`),
  );
  return index;
}
