// One relay per spool. The lock file names its owner by pid and start time: a lock left by a process that
// is gone (crash, SIGKILL, power loss) is taken over, also when the pid now belongs to another process (pid
// reuse after a reboot), which a pid alone cannot tell.
import fs from 'node:fs/promises';
import path from 'node:path';
import { ownIdentity, stillRunning, type ProcessIdentity } from './process-identity.js';

/** Spools this process holds: a lock naming our own pid may be from a previous life, so within the process
 *  this set is the truth. */
const heldHere = new Set<string>();

export class SpoolLockedError extends Error {
  constructor(readonly pid: number, lockFile: string) {
    super(`another relay (pid ${pid}) is already using this data directory; stop it first (lock file ${lockFile})`);
    this.name = 'SpoolLockedError';
  }
}

/** Reads a lock file: `{"pid":N,"started":MS}`, or a bare pid as version 0.1 wrote it. */
function parseLock(text: string): ProcessIdentity | null {
  try {
    const j = JSON.parse(text) as { pid?: unknown; started?: unknown };
    if (typeof j === 'number') return Number.isInteger(j) && j > 0 ? { pid: j, started: null } : null;
    if (typeof j.pid === 'number' && Number.isInteger(j.pid) && j.pid > 0) {
      return { pid: j.pid, started: typeof j.started === 'number' ? j.started : null };
    }
  } catch {
    // torn or foreign content: nobody holds it
  }
  return null;
}

/** The pid of the live owner, or null when the spool is free. */
export async function lockOwner(lockFile: string): Promise<number | null> {
  let text: string;
  try {
    text = await fs.readFile(lockFile, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const owner = parseLock(text);
  if (!owner) return null;
  if (owner.pid === process.pid) return heldHere.has(path.resolve(lockFile)) ? owner.pid : null;
  return (await stillRunning(owner)) ? owner.pid : null;
}

export async function acquireLock(lockFile: string): Promise<() => Promise<void>> {
  const key = path.resolve(lockFile);
  const me = await ownIdentity();
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      if (heldHere.has(key)) throw Object.assign(new Error('held'), { code: 'EEXIST' });
      await fs.writeFile(lockFile, JSON.stringify(me) + '\n', { flag: 'wx', mode: 0o600 });
      heldHere.add(key);
      return async () => {
        heldHere.delete(key);
        await fs.rm(lockFile, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = await lockOwner(lockFile);
    if (owner !== null) throw new SpoolLockedError(owner, lockFile);
    await fs.rm(lockFile, { force: true }); // stale: its owner is gone
  }
  throw new Error(`could not take the spool lock ${lockFile}; another relay is starting at the same time`);
}
