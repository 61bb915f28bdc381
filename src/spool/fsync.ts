// The durability primitives every write in the data directory goes through.
// Order matters: data fsynced before the rename that makes it visible, the directory fsynced after.
import fs from 'node:fs/promises';
import path from 'node:path';

const WINDOWS = process.platform === 'win32';

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
