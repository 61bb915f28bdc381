// One relay per spool. The lock file holds the owner's pid; a lock left by a process that no longer
// exists (crash, SIGKILL, power loss) is taken over.
import fs from 'node:fs/promises';

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
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : null;
}

export async function acquireLock(lockFile: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fs.writeFile(lockFile, `${process.pid}\n`, { flag: 'wx' });
      return async () => { await fs.rm(lockFile, { force: true }); };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = await lockOwner(lockFile);
    if (owner !== null) throw new SpoolLockedError(owner, lockFile);
    await fs.rm(lockFile, { force: true }); // stale: its owner is gone
  }
  throw new Error(`could not take the spool lock ${lockFile}; another relay is starting at the same time`);
}
