// The spool's commit sequence on Windows, run here: Spool.open takes the platform whose durability
// rules apply, and the disk seam (test/support/faulty-files.ts) records and fails each step. Windows
// cannot fsync a directory, so a new state is flushed under its final name after the rename; the
// client gets 250 only after that flush, and 451 (with nothing left behind) when any step fails.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/schema.js';
import { MailLog } from '../src/log/mail-log.js';
import { Receiver } from '../src/receive/server.js';
import { Spool, type Entry } from '../src/spool/spool.js';
import { faultyDisk, noFaults, type Faults, type Operation } from './support/faulty-files.js';
import { RawSmtp } from './support/raw-smtp.js';
import { freePort, tempDataDir } from './support/relay.js';

const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

interface Rig {
  port: number;
  root: string;
  spool: Spool;
  faults: Faults;
  trace: Operation[];
}

async function receiver(platform: NodeJS.Platform): Promise<Rig> {
  const root = await tempDataDir();
  const faults = noFaults();
  const trace: Operation[] = [];
  const spool = await Spool.open(path.join(root, 'spool'), { ...faultyDisk(faults, trace), platform });
  const listen = parseConfig({ listen: { port: await freePort() } }).listen;
  const r = new Receiver({ listen, spool, log: new MailLog({ dir: path.join(root, 'logs') }), hostname: 'relay.test' });
  await r.listen();
  cleanups.push(async () => {
    await r.close();
    await spool.close();
    await fs.rm(root, { recursive: true, force: true });
  });
  return { port: listen.port, root, spool, faults, trace };
}

async function session(port: number): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port);
  cleanups.push(async () => c.close());
  expect(await c.reply()).toMatch(/^220/);
  await c.command('EHLO app.test');
  return c;
}

async function send(c: RawSmtp): Promise<string> {
  for (const cmd of ['MAIL FROM:<app@app.test>', 'RCPT TO:<dev@target.test>']) expect(await c.command(cmd)).toMatch(/^250/);
  expect(await c.command('DATA')).toMatch(/^354/);
  await c.write(`Subject: commit\r\n\r\n${'z'.repeat(100_000)}\r\n.\r\n`);
  return c.reply(30_000);
}

/** Every file under the spool other than its format marker and lock. */
async function spoolFiles(root: string): Promise<string[]> {
  const dir = path.join(root, 'spool');
  const all = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return all.filter((d) => d.isFile()).map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
    .filter((f) => !/^(format\.json|lock)$/.test(f)).sort();
}

/** Position of the first operation that matches, -1 if none. */
const at = (trace: Operation[], op: Operation['op'], kind: Operation['kind'], file?: string) =>
  trace.findIndex((o) => o.op === op && o.kind === kind && (file === undefined || o.file === file));

describe('spool commit on Windows (platform win32 on this machine)', () => {
  it('content and state flushed, renamed into q/, then the state flushed under its final name; no directory is opened', async () => {
    const r = await receiver('win32');
    const reply = await send(await session(r.port));
    expect(reply).toMatch(/^250 2\.0\.0 Ok: queued as /);

    const rename = r.trace.filter((o) => o.op === 'rename');
    expect(rename).toHaveLength(1);
    const final = (rename[0] as Operation).file;
    expect(path.relative(path.join(r.root, 'spool'), final)).toMatch(/^q[/\\][^/\\]+[/\\][^/\\]+$/);
    const iRename = r.trace.indexOf(rename[0] as Operation);
    expect(at(r.trace, 'sync', 'content'), 'content flushed before the rename').toBeGreaterThanOrEqual(0);
    expect(at(r.trace, 'sync', 'content')).toBeLessThan(iRename);
    expect(at(r.trace, 'sync', 'state'), 'state flushed before the rename').toBeGreaterThanOrEqual(0);
    expect(at(r.trace, 'sync', 'state')).toBeLessThan(iRename);
    expect(r.trace.slice(iRename + 1), 'after the rename: the final name opened for writing, flushed, closed').toEqual([
      { op: 'open', kind: 'committed', file: final },
      { op: 'sync', kind: 'committed', file: final },
      { op: 'close', kind: 'committed', file: final },
    ]);
    expect(r.trace.filter((o) => o.kind === 'dir'), 'Windows cannot fsync a directory (EPERM)').toEqual([]);
    expect(await spoolFiles(r.root)).toEqual([path.join('msg', `${reply.split(' ').at(-1)}.eml`), path.relative(path.join(r.root, 'spool'), final)].sort());
  });

  it('on Linux the same commit fsyncs the directories instead and never reopens the state', async () => {
    const r = await receiver('linux');
    expect(await send(await session(r.port))).toMatch(/^250 /);
    const iRename = at(r.trace, 'rename', 'committed');
    const final = (r.trace[iRename] as Operation).file;
    expect(at(r.trace, 'sync', 'dir', path.join(r.root, 'spool', 'msg')), 'msg/ fsynced before the rename').toBeLessThan(iRename);
    expect(at(r.trace, 'sync', 'dir', path.join(r.root, 'spool', 'msg'))).toBeGreaterThanOrEqual(0);
    expect(at(r.trace, 'sync', 'dir', path.dirname(final)), 'the bucket fsynced after it').toBeGreaterThan(iRename);
    expect(r.trace.filter((o) => o.kind === 'committed' && o.op !== 'rename')).toEqual([]);
  });

  const steps: [string, (f: Faults) => void, RegExp][] = [
    ['writing the content', (f) => { f.writeAfterBytes = 0; }, /write/],
    ['flushing the content', (f) => { f.syncContent = true; }, /fsync/],
    ['flushing the state in tmp/', (f) => { f.syncState = true; }, /fsync/],
    ['the rename into q/', (f) => { f.rename = true; }, /rename/],
    ['flushing the state under its final name', (f) => { f.syncCommitted = true; }, /fsync/],
  ];
  for (const [step, arm, syscall] of steps) {
    it(`a failure ${step}: 451 4.3.0, never 250, nothing queued or left behind; the next message commits`, async () => {
      const r = await receiver('win32');
      const c = await session(r.port);
      arm(r.faults);
      expect(await send(c)).toMatch(/^451 4\.3\.0 Error: queue file write error/);
      expect(r.spool.stats().queued).toBe(0);
      expect(await spoolFiles(r.root)).toEqual([]);
      const log = await fs.readFile(path.join(r.root, 'logs', 'relay.log'), 'utf8');
      expect(log).toMatch(new RegExp(`queue file write error from \\[127\\.0\\.0\\.1\\]: EIO: i/o error, ${syscall.source}`));
      Object.assign(r.faults, noFaults());
      expect(await send(c)).toMatch(/^250 2\.0\.0 Ok: queued as /);
      expect(r.spool.stats().queued).toBe(1);
    });
  }

  it('a new generation whose final flush failed: after a restart exactly one generation is queued, content intact', async () => {
    const r = await receiver('win32');
    const id = (await send(await session(r.port))).split(' ').at(-1) as string;
    let entry: Entry | null = null;
    for await (const e of r.spool.entries()) entry = e;
    const state = await r.spool.load(entry as Entry);
    expect(state?.id).toBe(id);
    r.faults.syncCommitted = true;
    await expect(r.spool.update(entry as Entry, { ...state!, rcpts: state!.rcpts.map((x) => ({ ...x, n: 1, next: Date.now() + 60_000 })) })).rejects.toThrow(/EIO/);
    await r.spool.close();
    const reopened = await Spool.open(path.join(r.root, 'spool'), { platform: 'win32' });
    cleanups.push(() => reopened.close());
    const left: Entry[] = [];
    for await (const e of reopened.entries()) left.push(e);
    expect(left.map((e) => e.id)).toEqual([id]);
    expect((await reopened.load(left[0] as Entry))?.size).toBe(state?.size);
    expect(reopened.stats().queued).toBe(1);
  });
});
