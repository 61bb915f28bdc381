// Start-up recovery (before the listener opens): settle whatever a crash left half done.
//  - tmp/ holds only unfinished writes: removed.
//  - Two generations of one message (crash between rename and unlink): the newest wins.
//  - Content without a committed state was never acknowledged: removed.
//  - A state without content, or a name we cannot read: moved to corrupt/, never deleted silently.
// Only names are read. The listings and the id map are transient and released when recovery returns.
import fs from 'node:fs/promises';
import path from 'node:path';
import { moveToCorrupt, type SpoolPaths } from './layout.js';
import { isBucket, parseFailedName, parseQueueName } from './names.js';

export interface SpoolCounts {
  /** Messages still waiting for delivery (the tray's number). */
  queued: number;
  /** Of those, the ones that have had a failed attempt. */
  deferred: number;
  /** Kept after a permanent failure. */
  failed: number;
  /** Entries moved to corrupt/ (this run and before). */
  corrupt: number;
}

/** An entry recovery moved to corrupt/ (its state file's name there, and why). */
export interface MovedAside {
  name: string;
  id: string | null;
  reason: string;
}

/** Entries recovery reports one by one; beyond this, only their number. */
const MOVED_KEPT = 1000;

interface Found {
  /** Where the state file is: the directory (shared by all its entries) and the name. */
  dir: string;
  name: string;
  gen: number;
  queued: boolean;
  attempts: number;
  /** msg/<id>.eml exists. */
  content: boolean;
}

export async function recoverSpool(p: SpoolPaths): Promise<SpoolCounts & { oldest: string | null; moved: MovedAside[] }> {
  const moved: MovedAside[] = [];
  const setAside = async (file: string, id: string | null, reason: string) => {
    await moveToCorrupt(p, file, id, reason);
    if (moved.length < MOVED_KEPT) moved.push({ name: path.basename(file), id, reason });
  };
  for (const name of await listNames(p.tmp)) await fs.rm(path.join(p.tmp, name), { force: true, recursive: true });

  // One pass over the names, synchronous per entry (a 100k queue is a few hundred ms, not seconds):
  // the listing of one directory at a time is held, and the id map, both released at return.
  const best = new Map<string, Found>();
  /** Records the entry; returns the file of an older generation of the same message, to be removed. */
  const consider = (id: string, found: Found): string | null => {
    const prev = best.get(id);
    if (!prev) {
      best.set(id, found);
      return null;
    }
    const [keep, drop] = prev.gen >= found.gen ? [prev, found] : [found, prev];
    best.set(id, keep);
    return path.join(drop.dir, drop.name);
  };

  for (const bucket of await listNames(p.q)) {
    const dir = path.join(p.q, bucket);
    if (!isBucket(bucket)) {
      await setAside(dir, null, 'unexpected entry in q/');
      continue;
    }
    for (const name of await listNames(dir)) {
      const q = parseQueueName(name);
      const older = q ? consider(q.id, { dir, name, gen: q.gen, queued: true, attempts: q.attempts, content: false }) : null;
      if (!q) await setAside(path.join(dir, name), null, 'unrecognised file name in the queue');
      if (older) await fs.rm(older, { force: true });
    }
  }
  for (const name of await listNames(p.failed)) {
    const f = parseFailedName(name);
    const older = f ? consider(f.id, { dir: p.failed, name, gen: f.gen, queued: false, attempts: 0, content: false }) : null;
    if (!f) await setAside(path.join(p.failed, name), null, 'unrecognised file name in failed/');
    if (older) await fs.rm(older, { force: true });
  }

  for (const name of await listNames(p.msg)) {
    const found = name.endsWith('.eml') ? best.get(name.slice(0, -4)) : undefined;
    if (found) found.content = true;
    else await fs.rm(path.join(p.msg, name), { force: true }); // never acknowledged, or already delivered
  }

  const counts = { queued: 0, deferred: 0, failed: 0, corrupt: 0, oldest: null as string | null, moved };
  for (const [id, f] of best) {
    if (!f.content) {
      await setAside(path.join(f.dir, f.name), id, 'the message content (msg/' + id + '.eml) is missing');
      continue;
    }
    if (!f.queued) counts.failed++;
    else {
      counts.queued++;
      if (f.attempts > 0) counts.deferred++;
      if (counts.oldest === null || id < counts.oldest) counts.oldest = id;
    }
  }
  for (const name of await listNames(p.corrupt)) if (!name.endsWith('.txt')) counts.corrupt++;
  return counts;
}

/** A directory's names ([] if it does not exist). */
async function listNames(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
