// The durable queue: the only thing receive/ and deliver/ share (Postfix's queue directory).
// Every state change is "write the new generation to tmp/, fsync, rename into place, make the rename
// durable (syncRenamed), then unlink the old one"; recover.ts settles whatever a crash left between two steps.
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  REAL_DISK, renameRetry, syncDirGrouped, syncRenamed, unlinkIfPresent, type SpoolDisk, type SpoolFile,
} from './fsync.js';
import { dirNames, moveToCorrupt, spoolPaths, type SpoolPaths } from './layout.js';
import { acquireLock } from './lock.js';
import {
  bucketOf, bucketStart, failedName, idTime, isBucket, newId, parseFailedName, parseQueueName, queueName,
  type QueueName,
} from './names.js';
import { recoverSpool, type MovedAside, type SpoolCounts } from './recover.js';
import {
  attemptsOf, isTerminal, nextDue, parseState, serializeState, STATE_VERSION, type MessageState,
} from './state.js';

export type { SpoolCounts } from './recover.js';
export { spoolPaths, type SpoolPaths } from './layout.js';

/** 2: state files may carry eightBit and smtputf8 (state.ts); a format 1 spool is upgraded in place. */
export const SPOOL_FORMAT = 2;

/** Content is written to disk in pieces of at least this size (and at commit): memory per session stays bounded. */
const INGEST_BUFFER = 64 * 1024;



/** Where one message's state file is now. */
export type Entry =
  | QueueEntry
  | { kind: 'failed'; dir: string; name: string; id: string; gen: number };
export type QueueEntry = {
  kind: 'queue'; dir: string; name: string;
  /** Set on the entry handed to onCommitted: the state just committed, so load() need not read it back. */
  committed?: MessageState;
} & QueueName;

export function entryPath(e: Entry): string {
  return path.join(e.dir, e.name);
}

/** An entry moved to corrupt/: the envelope when it could still be read (for a bounce), and why. */
export interface CorruptEntry {
  id: string | null;
  reason: string;
  state: MessageState | null;
  /** The header section of what is left of the content ('' when there is none). */
  headers: string;
}

export interface NewMessage {
  from: string;
  to: string[];
  client: { ip: string; helo: string };
  subject: string;
  /** BODY=8BITMIME was declared or 8-bit bytes were sent. */
  eightBit?: boolean;
  /** MAIL FROM carried SMTPUTF8. */
  smtputf8?: boolean;
  /** The Message-ID header without <>, when the message has one. */
  messageId?: string;
}

/** A message being received: content goes straight to msg/<id>.eml; it exists for the queue only once
 *  commit() has renamed its state file into q/. Until then a crash leaves an orphan that start-up removes. */
export class Ingest {
  private size = 0;
  private closed = false;
  /** Chunks not yet written: a message arrives in many small network reads (and our Received header
   *  first); gathered, a typical message is one write() instead of one per read. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(readonly id: string, readonly file: string, private readonly fh: SpoolFile, private readonly spool: Spool) {}

  /** Appends to the content. The chunk is kept until written (up to INGEST_BUFFER bytes): do not change it afterwards. */
  async write(chunk: Uint8Array): Promise<void> {
    this.size += chunk.length;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= INGEST_BUFFER) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const data = this.pending.length === 1 ? this.pending[0] as Uint8Array : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    // A write can be short (a filling disk) without failing; the rest must follow or fail loudly.
    for (let done = 0; done < data.length;) {
      const { bytesWritten } = await this.fh.write(data, done);
      if (bytesWritten <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
      done += bytesWritten;
    }
  }

  /** fsyncs the content, writes and commits the state; after it resolves the message is safe (send 250). */
  async commit(msg: NewMessage): Promise<string> {
    const now = Date.now();
    const state: MessageState = {
      v: STATE_VERSION, id: this.id, created: idTime(this.id), from: msg.from, size: this.size, client: msg.client,
      subject: msg.subject.slice(0, 200), ...(msg.messageId ? { mid: msg.messageId.slice(0, 200) } : {}), gen: 1, end: true,
      ...(msg.eightBit && { eightBit: true }), ...(msg.smtputf8 && { smtputf8: true }),
      rcpts: msg.to.map((a) => ({ a, st: 'q', n: 0, next: now })),
    };
    try {
      await this.spool.commitNew(state, this.syncContent());
    } catch (e) {
      // The commit's error is the one to report; the file is deleted next, so a close error adds nothing.
      await this.closeFile().catch(() => {});
      await fs.rm(this.file, { force: true });
      throw e;
    }
    return this.id;
  }

  private async syncContent(): Promise<void> {
    await this.flush();
    await this.fh.sync();
    await this.closeFile();
  }

  /** Drops a message that will not be acknowledged (client gone, too big, loop, write error). */
  async abort(): Promise<void> {
    this.pending = [];
    this.pendingBytes = 0;
    // Whatever the close says (often the write error that caused the abort again), the file is deleted next.
    await this.closeFile().catch(() => {});
    await fs.rm(this.file, { force: true });
  }

  private async closeFile(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}

export class Spool {
  readonly paths: SpoolPaths;
  private readonly counts: SpoolCounts;
  /** Id of the oldest queued message, or null when it must be looked up again. */
  private oldest: string | null | undefined;
  /** The last oldest id known, and when names were last scanned for it (see oldestQueuedAge). */
  private lastOldest: string | null = null;
  private oldestScannedAt = 0;
  private knownBuckets = new Set<string>();
  /** Told about every newly committed message (the queue manager delivers new mail first-come). */
  onCommitted: ((e: QueueEntry) => void) | null = null;
  /** Told where a message's state is after every change, or null when it left the spool (the queue page's index). */
  onChanged: ((id: string, now: Entry | null, state: MessageState | null) => void) | null = null;
  /** Told about every entry moved to corrupt/, before it is moved (so a bounce is queued first). */
  onCorrupt: ((c: CorruptEntry) => Promise<void>) | null = null;
  /** Removals of delivered content still under way (close() waits for them). */
  private readonly background = new Set<Promise<void>>();
  /** What start-up recovery moved aside, until reportRecovered() hands it to onCorrupt. */
  private recovered: MovedAside[];

  private constructor(
    root: string, counts: SpoolCounts & { oldest: string | null; moved: MovedAside[] }, private readonly unlock: () => Promise<void>,
    private readonly disk: SpoolDisk,
  ) {
    this.paths = spoolPaths(root);
    const { oldest, moved, ...rest } = counts;
    this.recovered = moved;
    this.counts = rest;
    this.oldest = oldest;
  }

  /** Takes the lock, checks the format, recovers from any crash; the spool is then ready for SMTP. */
  static async open(root: string, options: Partial<SpoolDisk> = {}): Promise<Spool> {
    const disk = { ...REAL_DISK, ...options };
    const p = spoolPaths(root);
    await fs.mkdir(root, { recursive: true });
    const unlock = await acquireLock(p.lock);
    try {
      await ensureFormat(p, disk);
      const counts = await recoverSpool(p);
      return new Spool(root, counts, unlock, disk);
    } catch (e) {
      await unlock();
      throw e;
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.background]);
    await this.unlock();
  }

  private inBackground(work: Promise<void>): void {
    const p = work.catch(() => {}).finally(() => this.background.delete(p));
    this.background.add(p);
  }

  stats(): SpoolCounts {
    return { ...this.counts };
  }

  async beginIngest(): Promise<Ingest> {
    const id = newId();
    const file = path.join(this.paths.msg, `${id}.eml`);
    const fh = await this.disk.openFile(file, 'wx', 0o600);
    return new Ingest(id, file, fh, this);
  }

  /**
   * @internal the commit point of a new message. Before the state is renamed into q/, three things must
   * be durable: the content (`contentSynced`: its fsync), the content's directory entry in msg/, and the
   * state file in tmp/. They do not depend on each other, so they run at once (one journal commit can
   * serve them all), and concurrent messages share the directory fsyncs (syncDirGrouped).
   */
  async commitNew(state: MessageState, contentSynced: Promise<void> = Promise.resolve()): Promise<void> {
    // A state with nothing to deliver would be named for a due time that never comes: no scan would see it.
    if (!state.rcpts.some((r) => r.st === 'q' || r.st === 'd')) {
      await Promise.allSettled([contentSynced]); // its file is deleted next: let the sync finish with it first
      throw new Error(`message ${state.id} has no recipient to deliver to`);
    }
    const [content, written, dir] = await Promise.allSettled([contentSynced, this.writeTmp(state), this.syncDir(this.paths.msg)]);
    const failed = [content, written, dir].find((r) => r.status === 'rejected');
    if (failed) {
      if (written.status === 'fulfilled') await fs.rm(written.value, { force: true });
      throw failed.reason;
    }
    const tmp = (written as PromiseFulfilledResult<string>).value;
    const entry = this.queueEntryFor(state);
    try {
      await this.place(tmp, entry);
    } catch (e) {
      // The client will get 451 and the content is removed: the state must go too (never half a commit).
      await fs.rm(tmp, { force: true });
      await fs.rm(entryPath(entry), { force: true });
      throw e;
    }
    this.counts.queued++;
    if (this.oldest === null && this.counts.queued === 1) this.oldest = state.id;
    this.onChanged?.(state.id, entry, state);
    this.onCommitted?.({ ...entry, committed: state });
  }

  /** Reads an entry's state; an unreadable one is moved to corrupt/ and null returned. */
  async load(e: Entry): Promise<MessageState | null> {
    if (e.kind === 'queue' && e.committed) {
      // Committed by this process moments ago: the state is the one in memory, because a state file is
      // never changed in place (each change is a new generation under a new name). Only make sure this
      // generation is still the current one (not delivered, retried or deleted since).
      const state = e.committed;
      e.committed = undefined;
      try {
        await fs.access(entryPath(e));
        return state;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    }
    let text: string;
    try {
      text = await fs.readFile(entryPath(e), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null; // moved on since it was listed
      throw err;
    }
    let state: MessageState;
    try {
      state = parseState(text);
      if (state.id !== e.id || state.gen !== e.gen) throw new Error('state file does not match its name');
    } catch (err) {
      await this.moveToCorrupt(e, (err as Error).message);
      return null;
    }
    // A content file cut short (a disk that lied about fsync, a damaged copy) must never go out half.
    const damage = await contentDamage(this.contentPath(state.id), state.size);
    if (damage) {
      await this.moveToCorrupt(e, damage, state);
      return null;
    }
    return state;
  }

  contentPath(id: string): string {
    return path.join(this.paths.msg, `${id}.eml`);
  }

  /** The header section of a stored message (at most 64 KB), for "view headers" and bounces. */
  async readHeaders(id: string): Promise<string> {
    const fh = await fs.open(this.contentPath(id), 'r');
    try {
      const buf = Buffer.alloc(65_536);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      const text = buf.subarray(0, bytesRead).toString('utf8');
      const end = text.search(/\r?\n\r?\n/);
      return end >= 0 ? text.slice(0, end) : text;
    } finally {
      await fh.close();
    }
  }

  /**
   * Records a new state for a message: back into q/ when recipients remain, into failed/ when it ended
   * with a permanent failure, and gone (content too) when every recipient was accepted.
   * Returns the new entry, or null when the message is done.
   */
  async update(e: Entry, state: MessageState): Promise<Entry | null> {
    state.gen = e.gen + 1;
    if (isTerminal(state) && state.rcpts.every((r) => r.st === 's')) {
      await unlinkIfPresent(entryPath(e)); // commit point of "delivered"
      this.forget(e);
      this.onChanged?.(e.id, null, null);
      // The content goes once that unlink is durable (a state file must never outlive its content).
      // Nothing waits for it: the delivery slot is free for the next message meanwhile. If it fails,
      // start-up recovery removes the content, which no state names any more.
      this.inBackground(this.syncDir(e.dir).then(() => unlinkIfPresent(this.contentPath(state.id))));
      return null;
    }
    const next: Entry = isTerminal(state)
      ? { kind: 'failed', dir: this.paths.failed, name: failedName(state), id: state.id, gen: state.gen }
      : this.queueEntryFor(state);
    await this.place(await this.writeTmp(state), next);
    // Told while both generations exist: a listing in between reads the new one, never a file just unlinked.
    this.onChanged?.(e.id, next, state);
    await unlinkIfPresent(entryPath(e));
    const wasOldest = this.oldest === e.id;
    this.forget(e);
    if (next.kind === 'failed') this.counts.failed++;
    else {
      this.counts.queued++;
      if (next.attempts > 0) this.counts.deferred++;
      if (wasOldest || (this.oldest === null && this.counts.queued === 1)) this.oldest = next.id;
    }
    return next;
  }

  /** Removes a message and its content for good (the user's Delete). */
  async remove(e: Entry): Promise<void> {
    await fs.rm(entryPath(e), { force: true });
    await this.syncDir(e.dir);
    await fs.rm(this.contentPath(e.id), { force: true });
    this.forget(e);
    this.onChanged?.(e.id, null, null);
  }

  /**
   * Streams the queue entries that are due at `now`, oldest bucket first, calling visit for each; visit
   * may wait (for a free delivery slot). Returns the earliest due time seen among entries not yet due.
   * Only names are read, so a pass costs memory for one directory handle, whatever the queue length.
   */
  async scanDue(now: number, visit: (e: Entry) => Promise<void>): Promise<number> {
    let nextDue = Infinity;
    for (const bucket of await this.buckets()) {
      const start = bucketStart(bucket);
      if (start > now) {
        nextDue = Math.min(nextDue, start);
        break;
      }
      const dir = path.join(this.paths.q, bucket);
      let seen = 0;
      for await (const e of this.queueEntries(dir)) {
        seen++;
        if (e.due > now) nextDue = Math.min(nextDue, e.due);
        else await visit(e);
      }
      if (seen === 0 && start + 2 * 15 * 60_000 < now) await this.dropBucket(bucket);
    }
    return nextDue;
  }

  /** Every entry, queue first then failed; for listing and lookups by id (names only). */
  async *entries(): AsyncGenerator<Entry> {
    for (const bucket of await this.buckets()) yield* this.queueEntries(path.join(this.paths.q, bucket));
    yield* failedEntries(this.paths.failed);
  }

  async find(id: string): Promise<Entry | null> {
    for await (const e of this.entries()) if (e.id === id) return e;
    return null;
  }

  /** Age in ms of the oldest message still waiting, or null when none waits. */
  async oldestQueuedAge(now = Date.now()): Promise<number | null> {
    if (this.counts.queued === 0) return null;
    if (!this.oldest) {
      // Finding it again reads every name. While a backlog drains, the oldest changes with nearly every
      // delivery and status is asked up to ten times a second: look at most every 5 s, and meanwhile
      // answer with the last oldest known (it arrived no later than the real one).
      if (this.lastOldest && Date.now() - this.oldestScannedAt < 5000) return Math.max(0, now - idTime(this.lastOldest));
      let min: string | null = null;
      for (const bucket of await this.buckets()) {
        for await (const e of this.queueEntries(path.join(this.paths.q, bucket))) if (min === null || e.id < min) min = e.id;
      }
      this.oldest = min;
      this.oldestScannedAt = Date.now();
    }
    this.lastOldest = this.oldest ?? null;
    return this.oldest ? Math.max(0, now - idTime(this.oldest)) : null;
  }

  private queueEntryFor(state: MessageState): QueueEntry {
    const due = nextDue(state);
    const bucket = bucketOf(due);
    return {
      kind: 'queue', dir: path.join(this.paths.q, bucket), id: state.id, gen: state.gen, due,
      attempts: attemptsOf(state), name: queueName({ due, id: state.id, gen: state.gen, attempts: attemptsOf(state) }),
    };
  }

  private async writeTmp(state: MessageState): Promise<string> {
    const tmp = path.join(this.paths.tmp, `${state.id}_${state.gen}.json`);
    const fh = await this.disk.openFile(tmp, 'w', 0o600);
    let written = false;
    try {
      await fh.writeFile(serializeState(state));
      await fh.sync();
      written = true;
    } finally {
      await fh.close();
      if (!written) await fs.rm(tmp, { force: true }); // a failed write leaves nothing behind
    }
    return tmp;
  }

  private async place(tmp: string, e: Entry): Promise<void> {
    if (e.kind === 'queue') await this.ensureBucket(path.basename(e.dir));
    await renameRetry(tmp, entryPath(e), this.disk);
    await syncRenamed(entryPath(e), this.disk);
  }

  /** Concurrent callers share the fsync (syncDirGrouped); nothing on Windows, where syncRenamed does it. */
  private syncDir(dir: string): Promise<void> {
    return syncDirGrouped(dir, this.disk);
  }

  private async ensureBucket(bucket: string): Promise<void> {
    if (this.knownBuckets.has(bucket)) return;
    try {
      await fs.mkdir(path.join(this.paths.q, bucket));
      await this.syncDir(this.paths.q);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    this.knownBuckets.add(bucket);
  }

  private async dropBucket(bucket: string): Promise<void> {
    this.knownBuckets.delete(bucket);
    // Housekeeping only: not empty after all (a message just arrived), or held open elsewhere (Windows).
    // The empty folder costs nothing and the next scan that finds it empty tries again.
    await fs.rmdir(path.join(this.paths.q, bucket)).catch(() => {});
  }

  private forget(e: Entry): void {
    if (e.kind === 'failed') {
      this.counts.failed--;
      return;
    }
    this.counts.queued--;
    if (e.attempts > 0) this.counts.deferred--;
    if (this.oldest === e.id) this.oldest = null;
  }

  /** Tells onCorrupt about the entries start-up recovery moved aside (the envelope read back from corrupt/). */
  async reportRecovered(): Promise<void> {
    for (const m of this.recovered.splice(0)) {
      let state: MessageState | null = null;
      if (m.id) state = await fs.readFile(path.join(this.paths.corrupt, m.name), 'utf8').then(parseState).catch(() => null);
      await this.onCorrupt?.({ id: m.id, reason: m.reason, state, headers: '' });
    }
  }

  private async moveToCorrupt(e: Entry, reason: string, state: MessageState | null = null): Promise<void> {
    const headers = state ? await this.readHeaders(state.id).catch(() => '') : '';
    await this.onCorrupt?.({ id: e.id, reason, state, headers });
    await moveToCorrupt(this.paths, entryPath(e), e.id, reason);
    this.forget(e);
    this.onChanged?.(e.id, null, null);
    this.counts.corrupt++;
  }

  private async buckets(): Promise<string[]> {
    return (await fs.readdir(this.paths.q)).filter(isBucket).sort();
  }

  private async *queueEntries(dir: string): AsyncGenerator<QueueEntry> {
    for await (const name of dirNames(dir)) {
      const q = parseQueueName(name);
      if (q) yield { kind: 'queue', dir, name, ...q };
    }
  }
}

async function* failedEntries(dir: string): AsyncGenerator<Entry> {
  for await (const name of dirNames(dir)) {
    const f = parseFailedName(name);
    if (f) yield { kind: 'failed', dir, name, ...f };
  }
}

/** Why a message's content does not match its state (missing, or not the size committed), or null. */
async function contentDamage(file: string, size: number): Promise<string | null> {
  try {
    const actual = (await fs.stat(file)).size;
    return actual === size ? null : `the message content (msg/${path.basename(file)}) is ${actual} bytes, not the ${size} committed (truncated?)`;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return `the message content (msg/${path.basename(file)}) is missing`;
    throw e;
  }
}

async function ensureFormat(p: SpoolPaths, disk: SpoolDisk): Promise<void> {
  for (const dir of [p.tmp, p.msg, p.q, p.failed, p.corrupt]) await fs.mkdir(dir, { recursive: true });
  let format: number;
  try {
    format = (JSON.parse(await fs.readFile(p.format, 'utf8')) as { format: number }).format;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${p.format} is unreadable: ${(e as Error).message}`, { cause: e });
    await fs.writeFile(p.format, JSON.stringify({ format: SPOOL_FORMAT }) + '\n');
    await syncDirGrouped(p.root, disk);
    return;
  }
  if (format === 1) {
    // Format 1's state files read as they are (state.ts); only the marker changes.
    const tmp = path.join(p.tmp, 'format.json');
    await fs.writeFile(tmp, JSON.stringify({ format: SPOOL_FORMAT }) + '\n');
    await renameRetry(tmp, p.format, disk);
    await syncRenamed(p.format, disk);
    await syncDirGrouped(p.root, disk);
    return;
  }
  if (format !== SPOOL_FORMAT) {
    throw new Error(`the spool in ${p.root} has format ${format}, written by a ${format > SPOOL_FORMAT ? 'newer' : 'different'} release (this one uses ${SPOOL_FORMAT}); nothing was changed`);
  }
}
