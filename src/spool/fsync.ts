// The durability primitives every write in the data directory goes through.
// Order matters: data fsynced before the rename that makes it visible, then the rename made durable:
// on POSIX by fsyncing the directory, on Windows by flushing the renamed file (see syncRenamed).
import fs from 'node:fs/promises';
import path from 'node:path';

/** What the spool needs of an open file. */
export type SpoolFile = Pick<fs.FileHandle, 'write' | 'writeFile' | 'sync' | 'close'>;

/** How the spool opens files (content, state, and directories to fsync them): fs.open. */
export type OpenFile = (file: string, flags: string, mode: number) => Promise<SpoolFile>;

/**
 * How the spool reaches the disk. The one seam for fault-injection tests, which pass Spool.open
 * versions of openFile/rename that fail (EIO, ENOSPC) or record what they do, and run the Windows
 * commit sequence on Linux by passing platform 'win32'.
 */
export interface SpoolDisk {
  openFile: OpenFile;
  rename: (from: string, to: string) => Promise<void>;
  /** Whose durability rules apply (directories cannot be fsynced on Windows). */
  platform: NodeJS.Platform;
}

export const REAL_DISK: Readonly<SpoolDisk> = { openFile: fs.open, rename: fs.rename, platform: process.platform };

/** fsync a directory so a rename or unlink in it survives power loss. Windows cannot open a directory
 *  for FlushFileBuffers (Node gets EPERM): there it is skipped, and syncRenamed flushes the file instead. */
export async function syncDir(dir: string, disk: SpoolDisk = REAL_DISK): Promise<void> {
  if (disk.platform === 'win32') return;
  const fh = await disk.openFile(dir, 'r', 0);
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
export function syncDirGrouped(dir: string, disk: SpoolDisk = REAL_DISK): Promise<void> {
  if (disk.platform === 'win32') return Promise.resolve();
  let g = dirGroups.get(dir);
  if (!g) dirGroups.set(dir, (g = { running: null, next: null }));
  const group = g;
  if (!group.running) return startGroupSync(dir, group, disk);
  group.next ??= group.running.catch(() => {}).then(() => {
    group.next = null;
    return startGroupSync(dir, group, disk);
  });
  return group.next;
}

interface DirGroup {
  running: Promise<void> | null;
  next: Promise<void> | null;
}
const dirGroups = new Map<string, DirGroup>();

function startGroupSync(dir: string, g: DirGroup, disk: SpoolDisk): Promise<void> {
  const p: Promise<void> = syncDir(dir, disk).finally(() => {
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

/** Runs `op` again while antivirus or the indexer holds a handle (EPERM/EACCES/EBUSY on Windows). */
async function whileBusy<T>(op: () => Promise<T>): Promise<T> {
  for (let wait = 20; ; wait *= 2) {
    try {
      return await op();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!(code === 'EPERM' || code === 'EACCES' || code === 'EBUSY') || wait > 5000) throw e;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** rename, retried while another process holds a handle on the file. */
export function renameRetry(from: string, to: string, disk: SpoolDisk = REAL_DISK): Promise<void> {
  return whileBusy(() => disk.rename(from, to));
}

/**
 * Makes a rename that just returned durable: the commit point of every spool state and of config.json.
 * POSIX: fsync the directory (grouped). Windows has no way to flush a directory: FlushFileBuffers needs
 * a handle with write access, which a directory does not give (EPERM), and MoveFileEx's
 * MOVEFILE_WRITE_THROUGH covers only moves done as copy-and-delete. A rename is a change to the file's
 * own NTFS record, logged in the NTFS journal; so the file is flushed under its new name, through a
 * handle opened for writing, which flushes its metadata (and the journal up to it) with it.
 */
export async function syncRenamed(file: string, disk: SpoolDisk = REAL_DISK): Promise<void> {
  if (disk.platform !== 'win32') return syncDirGrouped(path.dirname(file), disk);
  const fh = await whileBusy(() => disk.openFile(file, 'r+', 0o600));
  try {
    await fh.sync();
  } finally {
    await fh.close();
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
  await syncRenamed(file);
}
