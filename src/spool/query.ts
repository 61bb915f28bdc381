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
function rank(e: Entry): number {
  if (e.kind === 'failed') return 0;
  return e.attempts > 0 ? 1 : 2;
}

function matchesFilter(e: Entry, filter: QueueFilter): boolean {
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

interface Ranked {
  key: (string | number)[];
  entry: Entry;
}

function compare(a: Ranked, b: Ranked): number {
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
  const keep = q.offset + q.limit;
  const sign = q.order === 'desc' ? -1 : 1;
  const cmp = (a: Ranked, b: Ranked) => sign * compare(a, b);
  let best: Ranked[] = [];
  let matched = 0;
  const add = (entry: Entry, recipient: string) => {
    const key = q.sort === 'status' ? [rank(entry), entry.id] : q.sort === 'age' ? [entry.id] : [recipient, entry.id];
    matched++;
    best.push({ key, entry });
    if (best.length >= 2 * keep + 1000) best = best.sort(cmp).slice(0, keep);
  };
  if (index?.ready) {
    for (const { entry, text } of index.entries()) {
      if (!matchesFilter(entry, q.filter)) continue;
      if (needle && !entry.id.includes(needle) && !text.includes(needle)) continue;
      add(entry, firstRecipient(text));
    }
  } else {
    await streamSpool(spool, q, needle, add);
  }
  return { entries: best.sort(cmp).slice(q.offset, keep).map((r) => r.entry), matched };
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
