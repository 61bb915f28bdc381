// The queue as a sorted, filtered, searched list. From the relay's queue index when it is ready (memory
// only); before that by streaming the spool: names first (status, age and queue id are in them), state
// files only when a search or a recipient sort needs them. Either way never more than one page's worth
// of keys is kept (a top-K), so 100,000 queued cost no more memory than 100.
import fs from 'node:fs/promises';
import { firstRecipient, READ_AHEAD, searchText, type IndexedMessage, type QueueIndex } from './queue-index.js';
import { entryPath, type Entry, type Spool } from './spool.js';
import type { MessageState } from './state.js';

export type QueueFilter = 'all' | 'problems' | 'failed' | 'deferred' | 'waiting';
export type QueueSort = 'status' | 'age' | 'recipient';

export interface QueueSelection {
  offset: number;
  limit: number;
  filter: QueueFilter;
  search: string;
  sort: QueueSort;
  order: 'asc' | 'desc';
}

/** What sorting and filtering look at: an entry, or a message in the queue index. */
type Listed = { id: string; kind: Entry['kind']; attempts?: number };

/** failed < deferred < waiting: problems first. */
function rank(e: Listed): number {
  if (e.kind === 'failed') return 0;
  return (e.attempts ?? 0) > 0 ? 1 : 2;
}

function matchesFilter(e: Listed, filter: QueueFilter): boolean {
  const r = rank(e);
  switch (filter) {
    case 'all': return true;
    case 'problems': return r < 2;
    case 'failed': return r === 0;
    case 'deferred': return r === 1;
    case 'waiting': return r === 2;
  }
}

/**
 * A state file read for searching only (the page's own rows are loaded and checked by Spool.load).
 * Files whose text does not contain the needle at all are not parsed: most of them, in a search.
 */
async function peek(e: Entry, needle: string): Promise<Partial<MessageState> | null> {
  try {
    const text = await fs.readFile(entryPath(e), 'utf8');
    if (needle && !text.toLowerCase().includes(needle)) return null;
    return JSON.parse(text) as Partial<MessageState>;
  } catch {
    return null; // moved on since it was listed, or unreadable: Spool.load deals with that
  }
}

interface Ranked<T> {
  key: (string | number)[];
  item: T;
}

function compare<T>(a: Ranked<T>, b: Ranked<T>): number {
  for (let i = 0; i < a.key.length; i++) {
    const x = a.key[i] as string | number;
    const y = b.key[i] as string | number;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}

/**
 * The entries of one page of the queue, and how many match in all. The sort key: for status, the rank
 * then the id (which begins with the arrival time); for age the id; for recipient the first recipient.
 * A search looks in the queue id and the index's search text (recipients, sender, subject, Message-ID).
 */
export async function selectEntries(spool: Spool, q: QueueSelection, index?: QueueIndex | null): Promise<{ entries: Entry[]; matched: number }> {
  const needle = q.search.trim().toLowerCase();
  if (index?.ready) {
    const top = new TopK<IndexedMessage>(q);
    for (const m of index.messages()) {
      if (!matchesFilter(m, q.filter)) continue;
      if (needle && !m.id.includes(needle) && !m.text.includes(needle)) continue;
      top.add(m, firstRecipient(m.text));
    }
    return { entries: top.page().map((m) => index.entryOf(m)), matched: top.matched };
  }
  const top = new TopK<Entry>(q);
  await streamSpool(spool, q, needle, (e, recipient) => top.add(e, recipient));
  return { entries: top.page(), matched: top.matched };
}

/** The sorted page of what is added, keeping only the keys up to the page's end (plus slack to sort less often). */
class TopK<T extends Listed> {
  private best: Ranked<T>[] = [];
  matched = 0;
  private readonly keep: number;
  private readonly cmp: (a: Ranked<T>, b: Ranked<T>) => number;

  constructor(private readonly q: QueueSelection) {
    this.keep = q.offset + q.limit;
    const sign = q.order === 'desc' ? -1 : 1;
    this.cmp = (a, b) => sign * compare(a, b);
  }

  add(item: T, recipient: string): void {
    const q = this.q;
    const key = q.sort === 'status' ? [rank(item), item.id] : q.sort === 'age' ? [item.id] : [recipient, item.id];
    this.matched++;
    this.best.push({ key, item });
    if (this.best.length >= 2 * this.keep + 1000) this.best = this.best.sort(this.cmp).slice(0, this.keep);
  }

  page(): T[] {
    return this.best.sort(this.cmp).slice(this.q.offset, this.keep).map((r) => r.item);
  }
}

/** The same selection without an index: every name, and the state files a search or a recipient sort needs. */
async function streamSpool(spool: Spool, q: QueueSelection, needle: string, add: (entry: Entry, recipient: string) => void): Promise<void> {
  const needState = needle !== '' || q.sort === 'recipient';
  let batch: Entry[] = [];
  const flush = async () => {
    const states = await Promise.all(batch.map((e) => {
      if (!needle || e.id.includes(needle)) return q.sort === 'recipient' ? peek(e, '') : ({});
      return peek(e, needle);
    }));
    batch.forEach((e, i) => {
      const state = states[i];
      if (!state) return;
      const text = searchText(state);
      if (needle && !e.id.includes(needle) && !text.includes(needle)) return;
      add(e, firstRecipient(text));
    });
    batch = [];
  };
  for await (const e of spool.entries()) {
    if (!matchesFilter(e, q.filter)) continue;
    if (!needState) add(e, '');
    else {
      batch.push(e);
      if (batch.length >= READ_AHEAD) await flush();
    }
  }
  await flush();
}
