import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { MailLog } from '../src/log/mail-log.js';

let dir: string;
beforeEach(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relay-log-')); });
afterEach(async () => { await fs.rm(dir, { recursive: true, force: true }); });

it('writes one timestamped line per event and rotates by size, keeping the newest files', async () => {
  const log = new MailLog({ dir, maxBytes: 1000, keep: 2 });
  for (let i = 0; i < 60; i++) log.info(`id=${String(i).padStart(4, '0')} status=sent ${'x'.repeat(40)}`);
  log.close();
  const files = (await fs.readdir(dir)).sort();
  expect(files).toEqual(['relay.1.log', 'relay.2.log', 'relay.log']);
  for (const f of files) expect((await fs.stat(path.join(dir, f))).size).toBeLessThanOrEqual(1000);
  const current = await fs.readFile(path.join(dir, 'relay.log'), 'utf8');
  expect(current).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z info id=\d{4} status=sent x+\n/);
  expect(current).toContain('id=0059');
  const all = (await Promise.all(files.map((f) => fs.readFile(path.join(dir, f), 'utf8')))).join('');
  expect(all).not.toContain('id=0000'); // rotated out
});

it('masks registered secrets and keeps every line on one line', async () => {
  const log = new MailLog({ dir });
  const lines: string[] = [];
  log.onLine((l) => lines.push(l));
  log.redact('P4ssw0rd!');
  log.warn('server said: 535 bad credentials P4ssw0rd!\r\nsecond line');
  log.close();
  const text = await fs.readFile(path.join(dir, 'relay.log'), 'utf8');
  expect(text).not.toContain('P4ssw0rd!');
  expect(text.trimEnd().split('\n')).toHaveLength(1);
  expect(lines[0]).toMatch(/warning server said: 535 bad credentials \*+ second line$/);
});

it('a search reads the whole log, rotated files included, newest first; before pages further back', async () => {
  // More lines than are kept in memory (1,000), spread over relay.log and its rotations.
  const log = new MailLog({ dir, maxBytes: 20_000, keep: 5 });
  for (let i = 0; i < 1300; i++) log.info(`id=${String(i).padStart(4, '0')} to=<u${i % 10}@contoso.com> status=sent ${'x'.repeat(20)}`);
  expect((await fs.readdir(dir)).length).toBeGreaterThanOrEqual(4);
  // id=0003 is far older than relay.log's own lines: only a rotated file still has it.
  expect(await fs.readFile(path.join(dir, 'relay.log'), 'utf8')).not.toContain('id=0003');
  const found = await log.recent({ contains: 'TO=<U3@' });
  const ids = found.map((l) => /id=(\d{4})/.exec(l)?.[1]);
  const present = (await Promise.all((await fs.readdir(dir)).map((f) => fs.readFile(path.join(dir, f), 'utf8')))).join('');
  const expected = Array.from({ length: 130 }, (_, k) => String(1293 - 10 * k).padStart(4, '0')).filter((id) => present.includes(`id=${id}`));
  expect(ids).toEqual(expected);
  expect(ids).toContain('0003');
  // Two at a time, back through the log: the second page starts where the first ended.
  const first = await log.recent({ contains: 'u3@', limit: 2 });
  const before = first[1]!.slice(0, 24);
  const second = (await log.recent({ contains: 'u3@', limit: 3, before })).filter((l) => !first.includes(l));
  expect([...first, ...second].map((l) => /id=(\d{4})/.exec(l)?.[1])).toEqual(expected.slice(0, 2 + second.length));
  expect(second.length).toBeGreaterThanOrEqual(1);
  log.close();
});
