// The queue as a sorted, filtered, searched list, computed by streaming the spool: names first (status,
// age and queue id are in them), state files only when a search or a recipient sort needs them, and
// never more than one page's worth of keys kept (a top-K), so 100,000 queued cost no more memory than 100.
import fs from 'node:fs/promises';
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

/** State files read at once during a search (a disk queue depth, not a memory cost). */
const READ_AHEAD = 32;

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

/** What a search looks in: recipients, sender, subject, queue id and Message-ID. */
function matchesSearch(state: Partial<MessageState>, needle: string): boolean {
  if (state.from?.toLowerCase().includes(needle) || state.subject?.toLowerCase().includes(needle) || state.mid?.toLowerCase().includes(needle)) return true;
  return state.rcpts?.some((r) => r.a.toLowerCase().includes(needle)) ?? false;
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
 */
export async function selectEntries(spool: Spool, q: QueueSelection): Promise<{ entries: Entry[]; matched: number }> {
  const needle = q.search.trim().toLowerCase();
  const needState = needle !== '' || q.sort === 'recipient';
  const keep = q.offset + q.limit;
  const sign = q.order === 'desc' ? -1 : 1;
  const cmp = (a: Ranked, b: Ranked) => sign * compare(a, b);
  let best: Ranked[] = [];
  let matched = 0;
  const add = (entry: Entry, state: Partial<MessageState> | null) => {
    const key = q.sort === 'status' ? [rank(entry), entry.id] : q.sort === 'age' ? [entry.id] : [state?.rcpts?.[0]?.a.toLowerCase() ?? '', entry.id];
    matched++;
    best.push({ key, entry });
    if (best.length >= 2 * keep + 1000) best = best.sort(cmp).slice(0, keep);
  };
  let batch: Entry[] = [];
  const flush = async () => {
    const states = await Promise.all(batch.map((e) => {
      if (!needle || e.id.includes(needle)) return q.sort === 'recipient' ? peek(e, '') : ({});
      return peek(e, needle);
    }));
    batch.forEach((e, i) => {
      const state = states[i];
      if (!state) return;
      if (needle && !e.id.includes(needle) && !matchesSearch(state, needle)) return;
      add(e, state);
    });
    batch = [];
  };
  for await (const e of spool.entries()) {
    if (!matchesFilter(e, q.filter)) continue;
    if (!needState) add(e, null);
    else {
      batch.push(e);
      if (batch.length >= READ_AHEAD) await flush();
    }
  }
  await flush();
  return { entries: best.sort(cmp).slice(q.offset, keep).map((r) => r.entry), matched };
}
