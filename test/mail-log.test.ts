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
