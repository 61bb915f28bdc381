// The spool's folders, and the two operations every part of it needs on them.
import fs from 'node:fs/promises';
import path from 'node:path';
import { renameRetry } from './fsync.js';

export function spoolPaths(root: string) {
  return {
    root,
    tmp: path.join(root, 'tmp'),
    msg: path.join(root, 'msg'),
    q: path.join(root, 'q'),
    failed: path.join(root, 'failed'),
    corrupt: path.join(root, 'corrupt'),
    lock: path.join(root, 'lock'),
    format: path.join(root, 'format.json'),
  };
}
export type SpoolPaths = ReturnType<typeof spoolPaths>;

/** Streams a directory's names without loading the listing (memory flat in queue length). */
export async function* dirNames(dir: string): AsyncGenerator<string> {
  let handle;
  try {
    handle = await fs.opendir(dir, { bufferSize: 256 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for await (const d of handle) yield d.name;
}

/** Moves a state file (and its content, if any) aside for a human to inspect, with a note of why. */
export async function moveToCorrupt(p: SpoolPaths, file: string, id: string | null, reason: string): Promise<void> {
  await fs.mkdir(p.corrupt, { recursive: true });
  const base = path.basename(file);
  await renameRetry(file, path.join(p.corrupt, base)).catch((e) => { if (e.code !== 'ENOENT') throw e; });
  if (id) {
    await renameRetry(path.join(p.msg, `${id}.eml`), path.join(p.corrupt, `${id}.eml`)).catch((e) => { if (e.code !== 'ENOENT') throw e; });
  }
  await fs.writeFile(path.join(p.corrupt, `${base}.reason.txt`), `${new Date().toISOString()} ${reason}\n`);
}

