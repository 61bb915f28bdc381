import { renameSync } from 'node:fs';
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

it('keeps every rotated log when relay.log cannot be renamed, says so, and rotates once it can again', async () => {
  // Windows refuses the rename while another program (an admin's editor, an antivirus scan) has relay.log open.
  let locked = true;
  const rename = (from: string, to: string) => {
    if (locked && path.basename(from) === 'relay.log') throw Object.assign(new Error(`EBUSY: resource busy or locked, rename '${from}'`), { code: 'EBUSY' });
    renameSync(from, to);
  };
  const log = new MailLog({ dir, maxBytes: 1000, keep: 5, rename });
  const old = new Map<string, string>();
  for (let i = 1; i <= 5; i++) {
    old.set(`relay.${i}.log`, `rotated generation ${i}\n`);
    await fs.writeFile(path.join(dir, `relay.${i}.log`), `rotated generation ${i}\n`);
  }
  const line = (i: number) => `id=${String(i).padStart(4, '0')} status=sent ${'x'.repeat(40)}`;
  for (let i = 0; i < 60; i++) log.info(line(i)); // about 4 KB: over the limit, so rotation is tried again and again
  expect(log.problem).toMatch(/relay\.log could not be rotated: EBUSY/);
  for (const [file, text] of old) expect(await fs.readFile(path.join(dir, file), 'utf8'), file).toBe(text);
  expect((await fs.readFile(path.join(dir, 'relay.log'), 'utf8')).split('\n')).toHaveLength(61); // nothing lost either

  locked = false;
  for (let i = 60; i < 70; i++) log.info(line(i));
  log.close();
  expect(log.problem).toBeNull();
  // One rotation: the oldest file went, each other moved up one, relay.1.log holds everything up to the rotation.
  for (let i = 2; i <= 5; i++) expect(await fs.readFile(path.join(dir, `relay.${i}.log`), 'utf8')).toBe(`rotated generation ${i - 1}\n`);
  const rotated = await fs.readFile(path.join(dir, 'relay.1.log'), 'utf8');
  expect(rotated).toContain('id=0000');
  expect(rotated).toContain('id=0059');
  expect(await fs.readFile(path.join(dir, 'relay.log'), 'utf8')).toContain('id=0069');
});

it('says when relay.log cannot be written, and recovers when it can', async () => {
  await fs.mkdir(path.join(dir, 'relay.log')); // what cannot be opened for appending, even by root
  const log = new MailLog({ dir });
  const lines: string[] = [];
  log.onLine((l) => lines.push(l));
  log.info('first');
  expect(log.problem).toMatch(/relay\.log cannot be written: EISDIR/);
  expect(lines).toHaveLength(1); // the line still reaches the listeners
  await fs.rmdir(path.join(dir, 'relay.log'));
  log.info('second');
  log.close();
  expect(log.problem).toBeNull();
  expect(await fs.readFile(path.join(dir, 'relay.log'), 'utf8')).toMatch(/info second\n$/);
});

it('a rotation that fails half-way (an old log open elsewhere) costs no further log when it is tried again', async () => {
  let locked = true;
  const rename = (from: string, to: string) => {
    if (locked && path.basename(from) === 'relay.2.log') throw Object.assign(new Error('EBUSY: resource busy or locked'), { code: 'EBUSY' });
    renameSync(from, to);
  };
  for (let i = 1; i <= 5; i++) await fs.writeFile(path.join(dir, `relay.${i}.log`), `rotated generation ${i}\n`);
  const log = new MailLog({ dir, maxBytes: 1000, keep: 5, rename });
  for (let i = 0; i < 100; i++) log.info(`id=${String(i).padStart(4, '0')} ${'x'.repeat(40)}`); // about 7 rotations' worth
  expect(log.problem).toMatch(/could not be rotated: EBUSY/);
  locked = false;
  // Two lines: the first finishes the stuck rotation, the second rotates the overgrown relay.log.
  for (let i = 100; i < 102; i++) log.info(`id=${String(i).padStart(4, '0')} ${'x'.repeat(40)}`);
  log.close();
  expect(log.problem).toBeNull();
  const all = await Promise.all((await fs.readdir(dir)).map((f) => fs.readFile(path.join(dir, f), 'utf8')));
  // Two rotations, two old logs gone (5, then 4), however often the stuck one was tried; no line lost.
  expect(all.flatMap((t) => /^rotated generation (\d)/.exec(t)?.[1] ?? []).sort()).toEqual(['1', '2', '3']);
  for (let i = 0; i < 102; i++) expect(all.join(''), `line ${i}`).toContain(`id=${String(i).padStart(4, '0')}`);
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
