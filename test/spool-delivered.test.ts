// A delivered message: its state file's unlink is the commit point; the content is removed only once
// that unlink is durable (the directory's fsync), and the delivery that called update() does not wait
// for that fsync, so its slot goes to the next message. close() waits for the removals still under way.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { SpoolFile } from '../src/spool/fsync.js';
import { Spool } from '../src/spool/spool.js';

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'spool-delivered-'));
afterAll(() => fs.rm(root, { recursive: true, force: true }));

const exists = (file: string) => fs.access(file).then(() => true, () => false);

it('update() of a delivered message returns before the directory fsync; the content goes after it; close() waits', async () => {
  let slowDirSync = false;
  const openFile = async (file: string, flags: string, mode: number): Promise<SpoolFile> => {
    const fh = await fs.open(file, flags, mode);
    if (!(slowDirSync && (await fh.stat()).isDirectory())) return fh;
    const sync = async () => {
      await new Promise((r) => setTimeout(r, 1500));
      await fh.sync();
    };
    // The real handle, with a slow fsync (its methods bound to it: they use private fields).
    return new Proxy(fh, {
      get: (target, prop) => {
        if (prop === 'sync') return sync;
        const v: unknown = Reflect.get(target, prop);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  };
  const spool = await Spool.open(root, { openFile });
  const ingest = await spool.beginIngest();
  await ingest.write(Buffer.from('Subject: x\r\n\r\nbody\r\n'));
  const id = await ingest.commit({ from: 'a@b.test', to: ['c@d.test'], client: { ip: '127.0.0.1', helo: 'x' }, subject: 'x' });
  const entry = (await spool.find(id))!;
  const state = (await spool.load(entry))!;
  for (const r of state.rcpts) r.st = 's';

  slowDirSync = true;
  const t0 = Date.now();
  expect(await spool.update(entry, state)).toBeNull();
  expect(Date.now() - t0).toBeLessThan(1000);
  expect(await spool.find(id)).toBeNull();
  expect(spool.stats().queued).toBe(0);
  // The directory's fsync is still running: the content must still be there.
  expect(await exists(spool.contentPath(id))).toBe(true);

  await spool.close();
  expect(await exists(spool.contentPath(id))).toBe(false);
});
