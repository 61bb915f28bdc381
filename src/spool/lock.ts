// One relay per spool. The lock file holds the owner's pid; a lock left by a process that no longer
// exists (crash, SIGKILL, power loss) is taken over.
import fs from 'node:fs/promises';
import path from 'node:path';

/** Spools this process holds: a pid file naming our own pid may be from a previous life (pid reuse after a
 *  reboot or container restart), so within the process this set is the truth. */
const heldHere = new Set<string>();

export class SpoolLockedError extends Error {
  constructor(readonly pid: number, lockFile: string) {
    super(`another relay (pid ${pid}) is already using this data directory; stop it first (lock file ${lockFile})`);
    this.name = 'SpoolLockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Reads the pid of a live owner, or null when the spool is free. */
export async function lockOwner(lockFile: string): Promise<number | null> {
  let text: string;
  try {
    text = await fs.readFile(lockFile, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const pid = Number.parseInt(text, 10);
  if (pid === process.pid) return heldHere.has(path.resolve(lockFile)) ? pid : null;
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : null;
}

export async function acquireLock(lockFile: string): Promise<() => Promise<void>> {
  const key = path.resolve(lockFile);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      if (heldHere.has(key)) throw Object.assign(new Error('held'), { code: 'EEXIST' });
      await fs.writeFile(lockFile, `${process.pid}\n`, { flag: 'wx' });
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
