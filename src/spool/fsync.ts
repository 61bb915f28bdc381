// The durability primitives every write in the data directory goes through.
// Order matters: data fsynced before the rename that makes it visible, the directory fsynced after.
import fs from 'node:fs/promises';
import path from 'node:path';

const WINDOWS = process.platform === 'win32';

/** What the spool needs of an open file. */
export type SpoolFile = Pick<fs.FileHandle, 'write' | 'writeFile' | 'sync' | 'close'>;

/**
 * How the spool opens the files it writes (message content and state): fs.open. The one seam for
 * fault-injection tests, which pass Spool.open a version whose write or sync fails (EIO, ENOSPC)
 * to check that such a failure is answered 451/452 and leaves nothing queued.
 */
export type OpenFile = (file: string, flags: string, mode: number) => Promise<SpoolFile>;

/** fsync a directory so a rename or unlink in it survives power loss. Windows cannot open directories for
 *  sync (EPERM) and NTFS journals the metadata, so there it is skipped. */
export async function syncDir(dir: string): Promise<void> {
  if (WINDOWS) return;
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * syncDir with group commit: concurrent callers for one directory share fsyncs. A caller's change is
 * covered only by an fsync that starts after the call, so while one runs, every caller that arrives
 * waits for the single next one, which starts as soon as the running one ends. Under load (ten
 * sessions committing at once) a directory costs one fsync per batch instead of one per message;
 * alone, a caller pays exactly one fsync, as with syncDir. An error reaches every caller of that fsync.
 */
export function syncDirGrouped(dir: string): Promise<void> {
  if (WINDOWS) return Promise.resolve();
  let g = dirGroups.get(dir);
  if (!g) dirGroups.set(dir, (g = { running: null, next: null }));
  const group = g;
  if (!group.running) return startGroupSync(dir, group);
  group.next ??= group.running.catch(() => {}).then(() => {
    group.next = null;
    return startGroupSync(dir, group);
  });
  return group.next;
}

interface DirGroup {
  running: Promise<void> | null;
  next: Promise<void> | null;
}
const dirGroups = new Map<string, DirGroup>();

function startGroupSync(dir: string, g: DirGroup): Promise<void> {
  const p: Promise<void> = syncDir(dir).finally(() => {
    if (g.running === p) g.running = null;
    if (!g.running && !g.next) dirGroups.delete(dir); // nothing waits: forget the directory (buckets come and go)
  });
  g.running = p;
  return p;
}

/** Removes a file if it is there. One unlink: fs.rm({ force: true }) costs two lstat calls before it. */
export async function unlinkIfPresent(file: string): Promise<void> {
  try {
    await fs.unlink(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** rename, retried while antivirus or the indexer holds a handle (EPERM/EACCES/EBUSY on Windows). */
export async function renameRetry(from: string, to: string): Promise<void> {
  for (let wait = 20; ; wait *= 2) {
    try {
      return await fs.rename(from, to);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!(code === 'EPERM' || code === 'EACCES' || code === 'EBUSY') || wait > 5000) throw e;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** Writes a whole file so that after a crash it is either the old content or the new, never a mix. */
export async function writeFileDurably(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fh = await fs.open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await renameRetry(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await syncDir(path.dirname(file));
}
