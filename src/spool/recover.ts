// Start-up recovery (before the listener opens): settle whatever a crash left half done.
//  - tmp/ holds only unfinished writes: removed.
//  - Two generations of one message (crash between rename and unlink): the newest wins.
//  - Content without a committed state was never acknowledged: removed.
//  - A state without content, or a name we cannot read: moved to corrupt/, never deleted silently.
// Only names are read. The id map is transient and released when recovery returns.
import fs from 'node:fs/promises';
import path from 'node:path';
import { dirNames, moveToCorrupt, type SpoolPaths } from './layout.js';
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

interface Found {
  file: string;
  gen: number;
  queued: boolean;
  attempts: number;
}

export async function recoverSpool(p: SpoolPaths): Promise<SpoolCounts & { oldest: string | null }> {
  for await (const name of dirNames(p.tmp)) await fs.rm(path.join(p.tmp, name), { force: true, recursive: true });

  const best = new Map<string, Found>();
  const consider = async (id: string, found: Found) => {
    const prev = best.get(id);
    if (!prev) return void best.set(id, found);
    const [keep, drop] = prev.gen >= found.gen ? [prev, found] : [found, prev];
    best.set(id, keep);
    await fs.rm(drop.file, { force: true });
  };

  for await (const bucket of dirNames(p.q)) {
    const dir = path.join(p.q, bucket);
    if (!isBucket(bucket)) {
      await moveToCorrupt(p, dir, null, 'unexpected entry in q/');
      continue;
    }
    for await (const name of dirNames(dir)) {
      const q = parseQueueName(name);
      if (q) await consider(q.id, { file: path.join(dir, name), gen: q.gen, queued: true, attempts: q.attempts });
      else await moveToCorrupt(p, path.join(dir, name), null, 'unrecognised file name in the queue');
    }
  }
  for await (const name of dirNames(p.failed)) {
    const f = parseFailedName(name);
    if (f) await consider(f.id, { file: path.join(p.failed, name), gen: f.gen, queued: false, attempts: 0 });
    else await moveToCorrupt(p, path.join(p.failed, name), null, 'unrecognised file name in failed/');
  }

  const withContent = new Set<string>();
  for await (const name of dirNames(p.msg)) {
    const id = name.endsWith('.eml') ? name.slice(0, -4) : '';
    if (best.has(id)) withContent.add(id);
    else await fs.rm(path.join(p.msg, name), { force: true }); // never acknowledged, or already delivered
  }

  const counts = { queued: 0, deferred: 0, failed: 0, corrupt: 0, oldest: null as string | null };
  for (const [id, f] of best) {
    if (!withContent.has(id)) {
      await moveToCorrupt(p, f.file, id, 'the message content (msg/' + id + '.eml) is missing');
      continue;
    }
    if (!f.queued) counts.failed++;
    else {
      counts.queued++;
      if (f.attempts > 0) counts.deferred++;
      if (counts.oldest === null || id < counts.oldest) counts.oldest = id;
    }
  }
  for await (const name of dirNames(p.corrupt)) if (!name.endsWith('.txt')) counts.corrupt++;
  return counts;
}
