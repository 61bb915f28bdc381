// The queue as a sorted, filtered, searched list. From the relay's queue index when it is ready (memory
// only); before that by streaming the spool: names first (status, age and queue id are in them), state
// files only when a search or a recipient sort needs them. Either way never more than one page's worth
// of keys is kept (a top-K), so 100,000 queued cost no more memory than 100.
import fs from 'node:fs/promises';
import { firstRecipient, READ_AHEAD, searchText, type QueueIndex } from './queue-index.js';
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

/** failed < deferred < waiting: problems first. */
const FAILED = 0;
const DEFERRED = 1;
const WAITING = 2;

function rankOfEntry(e: Entry): number {
  if (e.kind === 'failed') return FAILED;
  return e.attempts > 0 ? DEFERRED : WAITING;
}

function matchesFilter(rank: number, filter: QueueFilter): boolean {
  switch (filter) {
    case 'all': return true;
    case 'problems': return rank < WAITING;
    case 'failed': return rank === FAILED;
    case 'deferred': return rank === DEFERRED;
    case 'waiting': return rank === WAITING;
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

/**
 * The entries of one page of the queue, and how many match in all. The sort key: for status, the rank
 * then the id (which begins with the arrival time); for age the id; for recipient the first recipient.
 * A search looks in the queue id and the index's search text (recipients, sender, subject, Message-ID).
 */
export async function selectEntries(spool: Spool, q: QueueSelection, index?: QueueIndex | null): Promise<{ entries: Entry[]; matched: number }> {
  const needle = q.search.trim().toLowerCase();
  if (index?.ready) {
    // The page is re-read every few seconds while the queue page is open: with 100,000 queued this loop
    // must cost milliseconds, so a row is looked at in place and only one that sorts into the page is kept.
    const top = new TopK<string>(q);
    index.forEachRow((id, row, textAt) => {
      const rank = rankOfRow(row, textAt);
      if (!matchesFilter(rank, q.filter)) return;
      if (needle && !id.includes(needle) && row.indexOf(needle, textAt) < 0) return;
      top.add(rank, id, row, textAt, row);
    });
    return { entries: top.page().map(({ id, item }) => index.entryOf(id, item)), matched: top.matched };
  }
  const top = new TopK<Entry>(q);
  await streamSpool(spool, q, needle, (e, text) => top.add(rankOfEntry(e), e.id, text, 0, e));
  return { entries: top.page().map(({ item }) => item), matched: top.matched };
}

/** The rank of an index row: its place starts "failed/", or ends in the attempt count (see QueueIndex.rows). */
function rankOfRow(row: string, textAt: number): number {
  if (row.startsWith('failed/')) return FAILED;
  const attemptsAt = row.lastIndexOf('/', textAt - 2) + 1; // from before the newline: the text may hold a '/'
  return textAt - 1 - attemptsAt === 1 && row.charCodeAt(attemptsAt) === 48 /* "0" */ ? WAITING : DEFERRED;
}

interface Ranked<T> {
  rank: number;
  id: string;
  /** The first recipient, for the recipient sort only. */
  recipient: string;
  item: T;
}

/**
 * The sorted page of what is added, keeping only the keys up to the page's end (plus slack to sort less
 * often); once that many are kept, anything that sorts after the last of them is counted and dropped.
 */
class TopK<T> {
  private best: Ranked<T>[] = [];
  /** The last kept after a trim: what sorts after it cannot be on the page. */
  private worst: Ranked<T> | null = null;
  matched = 0;
  private readonly keep: number;
  private readonly cmp: (a: Ranked<T>, b: Ranked<T>) => number;

  constructor(private readonly q: QueueSelection) {
    this.keep = q.offset + q.limit;
    const sign = q.order === 'desc' ? -1 : 1;
    const byId = (a: Ranked<T>, b: Ranked<T>) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    const by = q.sort === 'status' ? (a: Ranked<T>, b: Ranked<T>) => a.rank - b.rank || byId(a, b)
      : q.sort === 'recipient' ? (a: Ranked<T>, b: Ranked<T>) => (a.recipient < b.recipient ? -1 : a.recipient > b.recipient ? 1 : byId(a, b))
        : byId;
    this.cmp = (a, b) => sign * by(a, b);
  }

  /** A match: its rank, id, and search text (from `textAt` on) give its sort key. */
  add(rank: number, id: string, text: string, textAt: number, item: T): void {
    this.matched++;
    const r = { rank, id, recipient: this.q.sort === 'recipient' ? firstRecipient(text, textAt) : '', item };
    if (this.worst && this.cmp(r, this.worst) > 0) return;
    this.best.push(r);
    if (this.best.length >= 2 * this.keep + 1000) this.trim();
  }

  page(): Ranked<T>[] {
    return this.best.sort(this.cmp).slice(this.q.offset, this.keep);
  }

  private trim(): void {
    this.best = this.best.sort(this.cmp).slice(0, this.keep);
    this.worst = this.best.at(-1) ?? null;
  }
}

/** The same selection without an index: every name, and the state files a search or a recipient sort needs. */
async function streamSpool(spool: Spool, q: QueueSelection, needle: string, add: (entry: Entry, text: string) => void): Promise<void> {
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
      add(e, text);
    });
    batch = [];
  };
  for await (const e of spool.entries()) {
    if (!matchesFilter(rankOfEntry(e), q.filter)) continue;
    if (!needState) add(e, '');
    else {
      batch.push(e);
      if (batch.length >= READ_AHEAD) await flush();
    }
  }
  await flush();
}
