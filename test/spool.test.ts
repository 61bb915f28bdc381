import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SpoolLockedError } from '../src/spool/lock.js';
import { bucketOf, idTime, newId, parseQueueName, queueName } from '../src/spool/names.js';
import { Spool, spoolPaths, type Entry } from '../src/spool/spool.js';
import { parseState, serializeState, type MessageState } from '../src/spool/state.js';

let root: string;
let spool: Spool | null;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'relay-spool-'));
  spool = null;
});
afterEach(async () => {
  await spool?.close();
  await fs.rm(root, { recursive: true, force: true });
});

async function open(): Promise<Spool> {
  await spool?.close();
  spool = await Spool.open(root);
  return spool;
}

async function enqueue(s: Spool, body = 'Subject: hi\r\n\r\nbody\r\n', to = ['a@example.com']): Promise<string> {
  const ingest = await s.beginIngest();
  await ingest.write(Buffer.from(body));
  return ingest.commit({ from: 'sender@example.com', to, client: { ip: '127.0.0.1', helo: 'test' }, subject: 'hi' });
}

async function entries(s: Spool): Promise<Entry[]> {
  const all: Entry[] = [];
  for await (const e of s.entries()) all.push(e);
  return all;
}

async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (d.isFile()) out.push(path.relative(dir, path.join(d.parentPath, d.name)));
  }
  return out.sort();
}

describe('names', () => {
  it('ids sort by arrival and carry their time', () => {
    const a = newId(1_700_000_000_000);
    const b = newId(1_700_000_000_001);
    expect(a < b).toBe(true);
    expect(idTime(a)).toBe(1_700_000_000_000);
    expect(a).toMatch(/^[0-9a-z]{16}$/);
  });

  it('queue names round-trip and reject anything else', () => {
    const n = { due: 1_700_000_000_123, id: newId(), gen: 7, attempts: 3 };
    expect(parseQueueName(queueName(n))).toEqual(n);
    for (const bad of ['', 'x.json', `${queueName(n)}.tmp`, queueName(n).replace('_7_', '_x_'), queueName(n).toUpperCase()]) {
      expect(parseQueueName(bad)).toBeNull();
    }
  });
});

describe('state files', () => {
  const state: MessageState = {
    v: 2, id: 'abcdefghij012345', created: 1, from: '', size: 10, client: { ip: '::1', helo: 'h' }, subject: 'Grüße',
    rcpts: [{ a: 'ü@example.com', st: 'q', n: 0, next: 5 }], gen: 1, end: true,
  };

  it('round-trips, multibyte included', () => {
    expect(parseState(serializeState(state))).toEqual(state);
    const flagged: MessageState = { ...state, eightBit: true, smtputf8: true };
    expect(parseState(serializeState(flagged))).toEqual(flagged);
  });

  it('reads a v1 file (before eightBit and smtputf8) as v2 without them', () => {
    expect(parseState(serializeState(state).replace('"v":2', '"v":1'))).toEqual(state);
  });

  it('detects torn and foreign files', () => {
    const text = serializeState(state);
    expect(() => parseState('')).toThrow(/empty/);
    expect(() => parseState(text.slice(0, -12))).toThrow(/not valid JSON/);
    expect(() => parseState(text.replace(',"end":true', ''))).toThrow(/invalid at end/);
    expect(() => parseState(text.replace('"v":2', '"v":9'))).toThrow(/newer than this release/);
    expect(() => parseState(text.replace('"rcpts":[', '"rcpts":[1,'))).toThrow(/invalid at rcpts/);
  });
});

describe('spool', () => {
  it('commits a message: content fsynced in msg/, state in its due bucket, nothing left in tmp/', async () => {
    const s = await open();
    const id = await enqueue(s);
    const files = await tree(root);
    expect(files).toContain(`msg/${id}.eml`);
    const q = files.filter((f) => f.startsWith('q/'));
    expect(q).toHaveLength(1);
    expect(q[0]).toMatch(new RegExp(`^q/${bucketOf(Date.now())}/\\d{13}_${id}_1_0\\.json$`));
    expect(files.filter((f) => f.startsWith('tmp/'))).toEqual([]);
    expect(await fs.readFile(s.contentPath(id), 'utf8')).toBe('Subject: hi\r\n\r\nbody\r\n');
    expect(s.stats()).toMatchObject({ queued: 1, deferred: 0, failed: 0 });
  });

  it('one relay per spool: a second open is refused while the first holds it', async () => {
    await open();
    await expect(Spool.open(root)).rejects.toBeInstanceOf(SpoolLockedError);
  });

  it('takes over the lock of a process that died', async () => {
    await fs.mkdir(root, { recursive: true });
    await fs.writeFile(path.join(root, 'lock'), '999999999\n'); // no such pid
    await expect(open()).resolves.toBeInstanceOf(Spool);
  });

  it('update: deferred goes back to q/ with a new generation; all sent removes state and content', async () => {
    const s = await open();
    const id = await enqueue(s, 'x', ['a@x.org', 'b@x.org']);
    let [e] = await entries(s);
    let state = (await s.load(e as Entry)) as MessageState;
    state.rcpts[0]!.st = 's';
    state.rcpts[1]!.st = 'd';
    state.rcpts[1]!.n = 1;
    state.rcpts[1]!.next = Date.now() + 60_000;
    const next = await s.update(e as Entry, state);
    expect(next).toMatchObject({ kind: 'queue', gen: 2, attempts: 1 });
    expect(s.stats()).toMatchObject({ queued: 1, deferred: 1 });
    expect((await entries(s)).map((x) => x.name)).toEqual([next?.name]);

    [e] = await entries(s);
    state = (await s.load(e as Entry)) as MessageState;
    expect(state.rcpts.map((r) => r.st)).toEqual(['s', 'd']);
    state.rcpts[1]!.st = 's';
    expect(await s.update(e as Entry, state)).toBeNull();
    expect(s.stats()).toMatchObject({ queued: 0, deferred: 0, failed: 0 });
    // The content goes once the state's unlink is durable, after update() returned.
    await expect.poll(() => tree(root)).toEqual(['format.json', 'lock']);
    expect(id).toBeTruthy();
  });

  it('a permanent failure moves the message to failed/ and keeps its content', async () => {
    const s = await open();
    const id = await enqueue(s);
    const [e] = await entries(s);
    const state = (await s.load(e as Entry)) as MessageState;
    state.rcpts[0]!.st = 'f';
    const next = await s.update(e as Entry, state);
    expect(next).toMatchObject({ kind: 'failed', gen: 2 });
    expect(s.stats()).toMatchObject({ queued: 0, failed: 1 });
    expect(await tree(root)).toContain(`msg/${id}.eml`);
    expect(await tree(root)).toContain(`failed/${id}_2.json`);
  });

  it('scanDue visits only due entries and reports the next due time', async () => {
    const s = await open();
    await enqueue(s);
    const later = await enqueue(s);
    const [, e2] = (await entries(s)).sort((a, b) => a.id.localeCompare(b.id));
    const st = (await s.load(e2 as Entry)) as MessageState;
    const due = Date.now() + 3_600_000;
    st.rcpts[0]!.next = due;
    st.rcpts[0]!.st = 'd';
    await s.update(e2 as Entry, st);
    const seen: string[] = [];
    const next = await s.scanDue(Date.now(), async (e) => { seen.push(e.id); });
    expect(seen).toHaveLength(1);
    expect(seen).not.toContain(later);
    expect(next).toBeLessThanOrEqual(due);
    expect(next).toBeGreaterThan(Date.now());
  });

  it('a message with no recipient is refused at commit and leaves nothing behind (no state named for a time that never comes)', async () => {
    const s = await open();
    await expect(enqueue(s, undefined, [])).rejects.toThrow(/has no recipient to deliver to/);
    expect(await tree(root)).toEqual(['format.json', 'lock']);
    expect(s.stats().queued).toBe(0);
  });

  it('an ingest that is aborted leaves nothing behind', async () => {
    const s = await open();
    const ingest = await s.beginIngest();
    await ingest.write(Buffer.from('partial'));
    await ingest.abort();
    expect(await tree(root)).toEqual(['format.json', 'lock']);
    expect(s.stats().queued).toBe(0);
  });
});

describe('recovery at start-up', () => {
  it('settles what a crash leaves between the steps of a write', async () => {
    let s = await open();
    const kept = await enqueue(s);
    const p = spoolPaths(root);
    const [e] = await entries(s);
    await s.close();
    spool = null;

    // 1. a half-written temp file  2. content whose state was never committed (no 250 was sent)
    await fs.writeFile(path.join(p.tmp, `${newId()}_1.json`), '{"v":1,');
    const orphan = newId();
    await fs.writeFile(path.join(p.msg, `${orphan}.eml`), 'never acknowledged');
    // 3. a crash between "rename gen 2 into place" and "unlink gen 1": both generations exist
    const state = parseState(await fs.readFile(path.join(e!.dir, e!.name), 'utf8'));
    state.gen = 2;
    state.rcpts[0]!.st = 'd';
    state.rcpts[0]!.n = 1;
    await fs.writeFile(path.join(e!.dir, queueName({ due: state.rcpts[0]!.next, id: kept, gen: 2, attempts: 1 })), serializeState(state));
    // 4. a state whose content vanished  5. a truncated state file  6. a stray file in q/
    const lost = newId();
    const bucket = path.basename(e!.dir);
    await fs.writeFile(path.join(p.q, bucket, queueName({ due: 1, id: lost, gen: 1, attempts: 0 })), serializeState({ ...state, id: lost, gen: 1 }));
    const torn = newId();
    await fs.writeFile(path.join(p.msg, `${torn}.eml`), 'content');
    await fs.writeFile(path.join(p.q, bucket, queueName({ due: 1, id: torn, gen: 1, attempts: 0 })), serializeState({ ...state, id: torn, gen: 1 }).slice(0, 40));
    await fs.writeFile(path.join(p.q, bucket, 'desktop.ini'), '');

    s = await open();
    const files = await tree(root);
    expect(files.filter((f) => f.startsWith('tmp/'))).toEqual([]);
    expect(files).not.toContain(`msg/${orphan}.eml`);
    const left = await entries(s);
    expect(left.filter((x) => x.id === kept).map((x) => x.gen)).toEqual([2]);
    expect(files.filter((f) => f.startsWith('corrupt/') && f.includes(lost))).not.toEqual([]);
    expect(files.some((f) => f === 'corrupt/desktop.ini')).toBe(true);
    expect(s.stats()).toMatchObject({ queued: 2, deferred: 1 });

    // The torn one is only found when read: moved aside, with its content, never delivered.
    const seen: string[] = [];
    await s.scanDue(Date.now(), async (x) => { if (await s.load(x)) seen.push(x.id); });
    expect(seen).toEqual([kept]);
    const after = await tree(root);
    expect(after).toContain(`corrupt/${torn}.eml`);
    expect(after.some((f) => f.startsWith('corrupt/') && f.includes(torn) && f.endsWith('.reason.txt'))).toBe(true);
    expect(s.stats()).toMatchObject({ queued: 1, corrupt: 3 });
  });

  it('refuses a spool written by a newer format and changes nothing', async () => {
    await fs.mkdir(root, { recursive: true });
    await fs.writeFile(path.join(root, 'format.json'), '{"format":3}');
    await expect(open()).rejects.toThrow(/format 3, written by a newer release/);
    expect(await fs.readFile(path.join(root, 'format.json'), 'utf8')).toBe('{"format":3}');
  });

  it('finds the age of the oldest waiting message after a restart', async () => {
    let s = await open();
    const first = await enqueue(s);
    await enqueue(s);
    await s.close();
    spool = null;
    s = await open();
    const age = (await s.oldestQueuedAge(idTime(first) + 5000)) as number;
    expect(age).toBe(5000);
  });
});
