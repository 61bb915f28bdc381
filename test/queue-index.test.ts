// The queue page's index (src/spool/queue-index.ts) on a real spool: it answers every query exactly as
// streaming the spool does, follows each commit, attempt, failure, retry and delete, and a build that
// runs while messages change keeps the newer facts.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bucketOf, newId, queueName } from '../src/spool/names.js';
import { QueueIndex } from '../src/spool/queue-index.js';
import { selectEntries, type QueueSelection } from '../src/spool/query.js';
import { Spool, type Entry } from '../src/spool/spool.js';
import type { MessageState } from '../src/spool/state.js';

let root: string;
let spool: Spool;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'relay-index-'));
  spool = await Spool.open(root);
});
afterEach(async () => {
  await spool.close();
  await fs.rm(root, { recursive: true, force: true });
});

async function enqueue(to: string[], subject: string, messageId = ''): Promise<string> {
  const ingest = await spool.beginIngest();
  await ingest.write(Buffer.from(`Subject: ${subject}\r\n\r\nbody\r\n`));
  return ingest.commit({ from: 'App@JTS.localdomain', to, client: { ip: '127.0.0.1', helo: 'test' }, subject, ...(messageId && { messageId }) });
}

async function find(id: string): Promise<Entry> {
  return (await spool.find(id))!;
}

/** One attempt for every recipient of a message: deferred (4xx) or failed (5xx). */
async function attempt(id: string, outcome: 'd' | 'f'): Promise<void> {
  const e = await find(id);
  const state = (await spool.load(e))!;
  for (const r of state.rcpts) Object.assign(r, { st: outcome, n: r.n + 1, next: Date.now() + 60_000, code: outcome === 'd' ? 451 : 550 });
  await spool.update(e, state);
}

const query = (q: Partial<QueueSelection>): QueueSelection => ({ offset: 0, limit: 100, filter: 'all', search: '', sort: 'status', order: 'asc', ...q });
const ids = async (q: Partial<QueueSelection>, index: QueueIndex | null) => {
  const r = await selectEntries(spool, query(q), index);
  return { matched: r.matched, ids: r.entries.map((e) => e.id) };
};

async function builtIndex(): Promise<QueueIndex> {
  const index = new QueueIndex(spool);
  spool.onChanged = (id, entry, state) => index.changed(id, entry, state);
  await index.build();
  return index;
}

describe('queue index', () => {
  it('answers filters, sorts, searches and pages exactly as streaming the spool does', async () => {
    const made: string[] = [];
    for (let i = 0; i < 40; i++) made.push(await enqueue([`user${(i * 7) % 40}@contoso.com`, `cc${i}@fabrikam.com`], `Nightly build ${i}`, `<build-${i}@jts.localdomain>`));
    await attempt(made[5]!, 'd');
    await attempt(made[17]!, 'd');
    await attempt(made[30]!, 'f');
    const index = await builtIndex();
    expect(index.ready).toBe(true);
    expect(index.size).toBe(40);
    const queries: Partial<QueueSelection>[] = [
      {}, { limit: 10, offset: 10 }, { filter: 'problems' }, { filter: 'deferred' }, { filter: 'failed' }, { filter: 'waiting', sort: 'age', order: 'desc' },
      { sort: 'recipient' }, { sort: 'recipient', order: 'desc', limit: 5 }, { search: 'USER14@' }, { search: 'fabrikam' }, { search: 'app@jts' },
      { search: 'build 3' }, { search: 'build-12@' }, { search: made[22]!.slice(-7) }, { search: 'nobody' }, { search: 'contoso', filter: 'deferred' },
    ];
    for (const q of queries) {
      const streamed = await ids(q, null);
      expect(await ids(q, index), JSON.stringify(q)).toEqual(streamed);
    }
    // And the answers are the right ones, not merely the same.
    expect(await ids({ filter: 'problems' }, index)).toEqual({ matched: 3, ids: [made[30], made[5], made[17]] });
    expect((await ids({ search: 'build-12@' }, index)).ids).toEqual([made[12]]);
  });

  it('follows every change the spool reports: new mail, an attempt, a failure, a retry, a delete, a delivery', async () => {
    const index = await builtIndex();
    const a = await enqueue(['dev@contoso.com'], 'First');
    const b = await enqueue(['ops@contoso.com'], 'Second');
    expect(await ids({ search: 'ops@' }, index)).toEqual({ matched: 1, ids: [b] });
    await attempt(a, 'd');
    expect((await ids({ filter: 'deferred' }, index)).ids).toEqual([a]);
    await attempt(a, 'f');
    expect((await ids({ filter: 'failed' }, index)).ids).toEqual([a]);
    // A retry of the failed message puts it back in the queue (the relay's retry: recipients pending again).
    const failed = await find(a);
    const state = (await spool.load(failed))!;
    for (const r of state.rcpts) Object.assign(r, { st: 'd', next: Date.now() });
    await spool.update(failed, state);
    expect((await ids({ filter: 'deferred' }, index)).ids).toEqual([a]);
    expect((await ids({ filter: 'failed' }, index)).ids).toEqual([]);
    await spool.remove(await find(a));
    expect(await ids({ search: 'dev@' }, index)).toEqual({ matched: 0, ids: [] });
    const delivered = await find(b);
    const sent = (await spool.load(delivered))!;
    for (const r of sent.rcpts) r.st = 's';
    await spool.update(delivered, sent);
    expect(index.size).toBe(0);
    // Each entry the index hands out is where the spool keeps the message now.
    const c = await enqueue(['x@contoso.com'], 'Third');
    const [listed] = (await selectEntries(spool, query({}), index)).entries;
    expect(listed).toEqual(expect.objectContaining({ id: c, dir: (await find(c)).dir, name: (await find(c)).name }));
    expect((await spool.load(listed!))?.subject).toBe('Third');
  });

  it('a build that runs while messages change keeps what the spool reported, not what it read before', async () => {
    const made: string[] = [];
    for (let i = 0; i < 200; i++) made.push(await enqueue([`u${i}@contoso.com`], `Message ${i}`));
    const index = new QueueIndex(spool);
    spool.onChanged = (id, entry, state) => index.changed(id, entry, state);
    const building = index.build();
    expect(index.ready).toBe(false);
    await attempt(made[150]!, 'f');
    await spool.remove(await find(made[199]!));
    await building;
    expect(index.ready).toBe(true);
    expect(index.size).toBe(199);
    expect((await ids({ filter: 'failed' }, index)).ids).toEqual([made[150]]);
    expect((await ids({ search: 'u199@' }, index)).matched).toBe(0);
    expect(await ids({ limit: 300 }, index)).toEqual(await ids({ limit: 300 }, null));
  });

  it('a page out of 5,000 (where only a page\'s worth of keys is kept while looking) is the one a full sort gives', async () => {
    const index = await builtIndex(); // empty spool: ready at once, then told of 5,000 messages
    const now = Date.now();
    const bucket = path.join(spool.paths.q, bucketOf(now));
    type Made = { id: string; rank: number; to: string };
    const made: Made[] = [];
    // A fixed shuffle (ids in random order to the index, as a spool's directory listing gives them), ranks mixed.
    for (let i = 0; i < 5000; i++) {
      const n = (i * 7919) % 5000;
      const id = newId(now - 10_000 + n);
      const kind = n % 97 === 0 ? 'failed' : 'queue';
      const attempts = n % 13 === 0 ? 2 : 0;
      // Some local parts begin with '/' (allowed in an address): the rank is read from the place, never the text.
      const to = `${n % 11 === 0 ? '/' : ''}user${(n * 31) % 5000}@contoso.com`;
      const entry: Entry = kind === 'failed'
        ? { kind, dir: spool.paths.failed, id, gen: 2, name: `${id}_2.json` }
        : { kind, dir: bucket, id, gen: 1, due: now, attempts, name: queueName({ due: now, id, gen: 1, attempts }) };
      index.changed(id, entry, { rcpts: [{ a: to }], from: 'app@jts.localdomain', subject: `Build ${n}`, mid: `${n}@jts` } as unknown as MessageState);
      made.push({ id, rank: kind === 'failed' ? 0 : attempts > 0 ? 1 : 2, to });
    }
    const order = (sort: QueueSelection['sort'], dir: number) => (a: Made, b: Made) => {
      const key = (m: Made): (string | number)[] => (sort === 'status' ? [m.rank, m.id] : sort === 'age' ? [m.id] : [m.to, m.id]);
      const [x, y] = [key(a), key(b)];
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return dir * (x[i]! < y[i]! ? -1 : 1);
      return 0;
    };
    const cases: Partial<QueueSelection>[] = [
      {}, { offset: 1200, limit: 50 }, { sort: 'age', order: 'desc' }, { sort: 'age', offset: 4950, limit: 100 }, { sort: 'recipient', limit: 20 },
      { sort: 'recipient', order: 'desc', offset: 300 }, { filter: 'deferred', limit: 10 }, { filter: 'waiting', sort: 'age', order: 'desc', offset: 2000 }, { filter: 'failed', limit: 200 },
    ];
    for (const c of cases) {
      const q = query(c);
      const want = made
        .filter((m) => q.filter === 'all' || (q.filter === 'failed' ? m.rank === 0 : q.filter === 'deferred' ? m.rank === 1 : m.rank === 2))
        .sort(order(q.sort, q.order === 'desc' ? -1 : 1));
      expect(await ids(c, index), JSON.stringify(c)).toEqual({ matched: want.length, ids: want.slice(q.offset, q.offset + q.limit).map((m) => m.id) });
    }
  });

  it('a queue larger than its limit drops the index (memory stays bounded) and the queue is still listed, from the spool', async () => {
    for (let i = 0; i < 5; i++) await enqueue([`u${i}@contoso.com`], `Message ${i}`);
    const index = new QueueIndex(spool, 5);
    spool.onChanged = (id, entry, state) => index.changed(id, entry, state);
    await index.build();
    expect(index.ready).toBe(true);
    const last = await enqueue(['u5@contoso.com'], 'Message 5');
    expect({ ready: index.ready, tooLarge: index.tooLarge, size: index.size }).toEqual({ ready: false, tooLarge: true, size: 0 });
    expect(await ids({ search: 'u5@' }, index)).toEqual({ matched: 1, ids: [last] });
  });

  it('a page read again reuses the states of rows that did not move and reads the ones that did', async () => {
    const a = await enqueue(['a@contoso.com'], 'A');
    const b = await enqueue(['b@contoso.com'], 'B');
    const index = await builtIndex();
    const page = async () => {
      const { entries } = await selectEntries(spool, query({ sort: 'age' }), index);
      return index.loadPage(entries);
    };
    const [a1, b1] = await page();
    await attempt(b, 'd');
    const [a2, b2] = await page();
    expect(a2).toBe(a1); // the same generation: not read again
    expect(b2).not.toBe(b1);
    expect({ a: a2?.id, b: b2?.id, attempts: b2?.rcpts[0]?.n }).toEqual({ a, b, attempts: 1 });
  });
});
