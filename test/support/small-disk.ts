// A real small disk for the disk-full tests: a tmpfs of a few MB mounted on a temporary folder, so
// statfs reports its real free space and writes really fail with ENOSPC when it is full.
// Mounting needs root, or passwordless sudo (as on CI machines); otherwise this throws, saying so.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SmallDisk {
  dir: string;
  /** Bytes free right now, from statfs. */
  free(): Promise<number>;
  /** Writes a filler file so that about `leave` bytes stay free (0: fill the disk up). */
  fill(leave: number): Promise<void>;
  /** Removes the filler. */
  drain(): Promise<void>;
  unmount(): Promise<void>;
}

async function privileged(args: string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  try {
    await (asRoot ? run(args[0] as string, args.slice(1)) : run('sudo', ['-n', ...args]));
  } catch (e) {
    throw new Error(`the disk-full tests mount a small tmpfs and need root or passwordless sudo: ${args.join(' ')} failed: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`, { cause: e });
  }
}

export async function mountSmallDisk(bytes: number): Promise<SmallDisk> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relay-small-disk-'));
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  await privileged(['mount', '-t', 'tmpfs', '-o', `size=${bytes},uid=${uid},gid=${gid},mode=0700`, 'tmpfs', dir]);
  const filler = path.join(dir, 'filler');
  const free = async () => {
    const s = await fs.statfs(dir);
    return s.bavail * s.bsize;
  };
  return {
    dir,
    free,
    async fill(leave) {
      const fh = await fs.open(filler, 'a');
      try {
        const block = Buffer.alloc(64 * 1024, 0x66);
        for (let room = (await free()) - leave; room > 0; room -= block.length) {
          await fh.write(block, 0, Math.min(block.length, room));
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      } finally {
        await fh.close();
      }
    },
    drain: () => fs.rm(filler, { force: true }),
    async unmount() {
      await privileged(['umount', dir]);
      await fs.rmdir(dir);
    },
  };
}
