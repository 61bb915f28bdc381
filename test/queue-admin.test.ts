// Queue administration (src/admin/queue-admin.ts) on a real spool: a message that moves on while it is
// being looked up (the queue manager writes its next generation meanwhile) is still found.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { QueueAdmin } from '../src/admin/queue-admin.js';
import { MailLog } from '../src/log/mail-log.js';
import { Spool, type Entry } from '../src/spool/spool.js';

let root: string;
let spool: Spool;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'relay-admin-'));
  spool = await Spool.open(path.join(root, 'spool'));
});
afterEach(async () => {
  await spool.close();
  await fs.rm(root, { recursive: true, force: true });
});

it('getMessage finds a message whose state file is replaced between the lookup and the read', async () => {
  const ingest = await spool.beginIngest();
  await ingest.write(Buffer.from('Subject: moving\r\n\r\nbody\r\n'));
  const id = await ingest.commit({ from: 'app@jts.localdomain', to: ['dev@contoso.com'], client: { ip: '127.0.0.1', helo: 'test' }, subject: 'moving' });
  const admin = new QueueAdmin({ spool, log: new MailLog({ dir: path.join(root, 'logs') }), queue: () => null, index: () => null, changed: () => {} });

  // The first read comes after an attempt was recorded: the name that was found is gone by then.
  const load = spool.load.bind(spool);
  let moved = false;
  spool.load = async (e: Entry) => {
    if (!moved) {
      moved = true;
      const state = (await load({ ...e }))!;
      state.rcpts[0]!.st = 'd';
      state.rcpts[0]!.n = 1;
      state.rcpts[0]!.code = 451;
      await spool.update({ ...e }, state);
    }
    return load(e);
  };
  const m = await admin.getMessage(id);
  expect(moved).toBe(true);
  expect(m).toMatchObject({ id, status: 'deferred', attempts: 1 });
});
