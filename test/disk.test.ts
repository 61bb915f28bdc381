// Disk trouble (issue 4; reference test cases 1, 4-7): a disk running low or filling up mid-message,
// write and fsync errors, spool files damaged on disk, and a client or the relay dying mid-DATA.
// Low space and ENOSPC are real (a small tmpfs); EIO is injected through the spool's file seam.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/schema.js';
import { saveConfig } from '../src/config/store.js';
import { MailLog } from '../src/log/mail-log.js';
import { Receiver } from '../src/receive/server.js';
import { Spool } from '../src/spool/spool.js';
import { cli, runRelay, type RunningRelay } from './support/cli.js';
import { faultyDisk, noFaults, type Faults } from './support/faulty-files.js';
import { RawSmtp } from './support/raw-smtp.js';
import { freePort, startRelay, tempDataDir, waitFor, type TestRelay } from './support/relay.js';
import { mountSmallDisk, type SmallDisk } from './support/small-disk.js';
import { startUpstream, type Upstream } from './support/upstream.js';

const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function later<T extends { stop(): Promise<unknown> } | { close(): void }>(thing: T): T {
  cleanups.push(async () => ('stop' in thing ? thing.stop() : thing.close()));
  return thing;
}

async function smallDisk(bytes: number): Promise<SmallDisk> {
  const disk = await mountSmallDisk(bytes);
  cleanups.push(() => disk.unmount());
  return disk;
}

/** A connected client past EHLO. */
async function session(port: number): Promise<RawSmtp> {
  const c = later(await RawSmtp.connect(port));
  expect(await c.reply()).toMatch(/^220/);
  await c.command('EHLO app.test');
  return c;
}

/** MAIL, RCPT and DATA with a body of `bytes` bytes (in 64 KB lines), calling `midway` halfway. */
async function send(c: RawSmtp, bytes: number, midway?: () => Promise<void>): Promise<string> {
  for (const cmd of ['MAIL FROM:<app@app.test>', 'RCPT TO:<dev@target.test>']) {
    const r = await c.command(cmd);
    if (!r.startsWith('250')) return r;
  }
  expect(await c.command('DATA')).toMatch(/^354/);
  await c.write('Subject: disk test\r\n\r\n');
  const line = Buffer.from('y'.repeat(65_534) + '\r\n');
  for (let sent = 0; sent < bytes; sent += line.length) {
    if (midway && sent >= bytes / 2 && sent < bytes / 2 + line.length) await midway();
    await c.write(line);
  }
  await c.write('.\r\n');
  return c.reply(30_000);
}

/** Every file under a folder, relative, recursively. */
async function files(dir: string): Promise<string[]> {
  const all = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return all.filter((d) => d.isFile()).map((d) => path.relative(dir, path.join(d.parentPath, d.name))).sort();
}

/** A port where nothing listens yet; start an upstream on it later to bring the "smarthost" up. */
async function downUpstreamPort(): Promise<number> {
  const probe = await startUpstream({ starttls: 'disabled' });
  await probe.stop();
  return probe.port;
}

describe('disk space (real tmpfs)', () => {
  it('below 1.5 × maxMessageBytes free: new mail gets 452 4.3.1 while the queue keeps draining; room again: accepted', async () => {
    const disk = await smallDisk(64 * 1024 * 1024);
    const port = await downUpstreamPort();
    const relay = later(await startRelay({
      listen: { maxMessageBytes: 16_000_000 }, delivery: { retrySchedule: '1s' },
      smarthost: { host: '127.0.0.1', port, security: 'none' },
    }, { dataDir: disk.dir }));
    const c = await session(relay.port);
    for (let i = 0; i < 3; i++) expect(await send(c, 100_000)).toMatch(/^250 /);

    await disk.fill(20_000_000); // under the 24 MB that 1.5 × 16 MB needs
    const mailFrom = async () => { const r = await c.command('MAIL FROM:<app@app.test>'); await c.command('RSET'); return r; };
    expect(await waitFor(async () => ((await mailFrom()).startsWith('452') ? mailFrom() : null), 3000, '452 once the reading is refreshed'))
      .toMatch(/^452 4\.3\.1 Insufficient system storage/);

    const upstream = later(await startUpstream({ port, starttls: 'disabled' }));
    await waitFor(() => upstream.messages.length === 3, 15_000, 'the queue drained to the smarthost');
    await waitFor(async () => (await relay.relay.getStatus()).queued === 0, 5000, 'empty queue');
    expect(await mailFrom()).toMatch(/^452 4\.3\.1/);

    await disk.drain();
    await waitFor(async () => (await mailFrom()).startsWith('250'), 3000, 'accepting again');
    expect(await send(c, 100_000)).toMatch(/^250 /);
    await waitFor(() => upstream.messages.length === 4, 10_000, 'the new message delivered');
    const log = await fs.readFile(path.join(disk.dir, 'logs', 'relay.log'), 'utf8');
    expect(log).toMatch(/has only \d+ MB free, less than 1\.5 × listen\.maxMessageBytes \(24 MB\): new mail is refused with 452 4\.3\.1/);
    expect(log).toMatch(/has room again: accepting new mail/);
  });

  it('the disk fills up in the middle of a message: 452 4.3.1 after the end of data, nothing queued, no partial file', async () => {
    const disk = await smallDisk(16 * 1024 * 1024);
    const relay = later(await startRelay({ listen: { maxMessageBytes: 4_000_000 } }, { dataDir: disk.dir }));
    const c = await session(relay.port);
    expect(await send(c, 3_500_000, () => disk.fill(0))).toMatch(/^452 4\.3\.1 /);
    expect(await fs.readFile(path.join(disk.dir, 'logs', 'relay.log'), 'utf8')).toMatch(/queue file write error from \[127\.0\.0\.1\]: ENOSPC/);
    expect((await relay.relay.getStatus()).queued).toBe(0);
    expect((await files(path.join(disk.dir, 'spool'))).filter((f) => !/^(format\.json|lock)$/.test(f))).toEqual([]);
    await disk.drain();
    expect(await send(c, 100_000)).toMatch(/^250 /); // the same session goes on once there is room
  });
});

describe('injected faults: write and fsync errors (EIO), a slow disk', () => {
  /** A receiver on a spool whose files fail as `faults` says at that moment. */
  async function faultyReceiver(faults: Faults): Promise<{ port: number; spool: Spool; root: string }> {
    const root = await tempDataDir();
    const spool = await Spool.open(path.join(root, 'spool'), faultyDisk(faults));
    const listen = parseConfig({ listen: { port: await freePort() } }).listen;
    const receiver = new Receiver({ listen, spool, log: new MailLog({ dir: path.join(root, 'logs') }), hostname: 'relay.test' });
    await receiver.listen();
    cleanups.push(async () => {
      await receiver.close();
      await spool.close();
      await fs.rm(root, { recursive: true, force: true });
    });
    return { port: listen.port, root, spool };
  }

  const cases: [string, (f: Faults) => void][] = [
    ['a write error after 200 KB of content', (f) => { f.writeAfterBytes = 200_000; }],
    ['an fsync error on the content', (f) => { f.syncContent = true; }],
    ['an fsync error on the state file', (f) => { f.syncState = true; }],
  ];
  for (const [name, arm] of cases) {
    it(`${name}: 451 4.3.0, never 250, nothing queued, nothing left behind; the session goes on`, async () => {
      const faults = noFaults();
      const r = await faultyReceiver(faults);
      const c = await session(r.port);
      arm(faults);
      expect(await send(c, 1_000_000)).toMatch(/^451 4\.3\.0 Error: queue file write error/);
      expect(r.spool.stats().queued).toBe(0);
      expect((await files(path.join(r.root, 'spool'))).filter((f) => !/^(format\.json|lock)$/.test(f))).toEqual([]);
      Object.assign(faults, noFaults());
      expect(await send(c, 100_000)).toMatch(/^250 2\.0\.0 Ok: queued as /);
      expect(r.spool.stats().queued).toBe(1);
      const log = await fs.readFile(path.join(r.root, 'logs', 'relay.log'), 'utf8');
      expect(log).toMatch(/queue file write error from \[127\.0\.0\.1\]: EIO: i\/o error, (write|fsync)/);
    });
  }

  it('a client that leaves after its whole message while the content is still being written: if kept, it keeps its envelope', async () => {
    const faults = noFaults();
    const r = await faultyReceiver(faults);
    faults.writeDelayMs = 300;
    const c = await session(r.port);
    await c.command('MAIL FROM:<app@app.test>');
    await c.command('RCPT TO:<dev@target.test>');
    expect(await c.command('DATA')).toMatch(/^354/);
    // Lines that might still be headers are held to the end of the data: past the spool's write buffer,
    // they make its first write start after the whole message is in, and the session ends during it.
    await c.write(`${'Filler: z\r\n'.repeat(6000)}.\r\n`);
    await new Promise((res) => setTimeout(res, 100));
    c.socket.resetAndDestroy();
    await waitFor(async () => (await fs.readdir(path.join(r.root, 'spool', 'tmp'))).length === 0 && r.spool.stats().queued === 1, 5000, 'the message committed').catch(async (e: Error) => { throw new Error(e.message + await fs.readFile(path.join(r.root, 'logs', 'relay.log'), 'utf8')); });
    const listed: string[] = [];
    for await (const e of r.spool.entries()) listed.push(e.id);
    expect(listed).toHaveLength(1);
    const state = await r.spool.load((await r.spool.find(listed[0] as string))!);
    expect(state).toMatchObject({ from: 'app@app.test', rcpts: [{ a: 'dev@target.test', st: 'q' }] });
  });

  it('a client that leaves while the spool file is still being opened: nothing queued, the relay keeps running', async () => {
    const faults = noFaults();
    const r = await faultyReceiver(faults);
    faults.openDelayMs = 300;
    for (let i = 0; i < 3; i++) {
      const c = await session(r.port);
      await c.command('MAIL FROM:<app@app.test>');
      await c.command('RCPT TO:<dev@target.test>');
      expect(await c.command('DATA')).toMatch(/^354/);
      // Gone right after DATA; after half a body; after the whole message, before its reply.
      if (i > 0) await c.write('Subject: gone\r\n\r\nbody');
      if (i > 1) await c.write('\r\n.\r\n');
      if (i > 1) c.socket.end(); // a reset could discard the final dot unread
      else c.socket.resetAndDestroy();
    }
    await new Promise((res) => setTimeout(res, 500)); // past the slow opens
    faults.openDelayMs = 0;
    expect(await send(await session(r.port), 1000)).toMatch(/^250 /);
    expect(r.spool.stats().queued).toBe(1);
    expect(await fs.readdir(path.join(r.root, 'spool', 'msg'))).toHaveLength(1);
  });
});

/** The state file of a queued message, found by id. */
async function stateFile(spoolDir: string, id: string): Promise<string> {
  const found = (await files(path.join(spoolDir, 'q'))).find((f) => f.includes(`_${id}_`));
  if (!found) throw new Error(`no state file for ${id}`);
  return path.join(spoolDir, 'q', found);
}

async function truncate(file: string, by: (size: number) => number): Promise<void> {
  const { size } = await fs.stat(file);
  await fs.truncate(file, by(size));
}

describe('damaged spool and deaths mid-DATA', () => {
  it('a truncated state file and a truncated content file: moved to corrupt/ at start-up, counted in status, never sent', async () => {
    const dataDir = await tempDataDir();
    cleanups.push(() => fs.rm(dataDir, { recursive: true, force: true }));
    // No smarthost yet: mail waits in the queue untouched.
    let relay: TestRelay = await startRelay({}, { dataDir });
    const c = await session(relay.port);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await send(c, 50_000)).split(' ').at(-1) as string);
    c.close();
    await relay.stop();
    const spoolDir = path.join(dataDir, 'spool');
    const [tornState, tornContent, whole] = ids as [string, string, string];
    await truncate(await stateFile(spoolDir, tornState), (n) => Math.floor(n / 2));
    await truncate(path.join(spoolDir, 'msg', `${tornContent}.eml`), (n) => n - 1000);

    const upstream: Upstream = later(await startUpstream({ starttls: 'disabled' }));
    relay = later(await startRelay({ delivery: { retrySchedule: '1s' }, smarthost: { host: '127.0.0.1', port: upstream.port, security: 'none' } }, { dataDir }));
    await waitFor(() => upstream.messages.some((m) => m.from !== ''), 10_000, 'the intact message');
    const status = await waitFor(async () => {
      const s = await relay.relay.getStatus();
      return s.queued === 0 && s.corrupt === 2 ? s : null;
    }, 5000, 'both damaged entries set aside');
    expect(status.failed).toBe(0);
    await new Promise((r) => setTimeout(r, 1500)); // a retry step: nothing more may arrive
    const sent = upstream.messages.filter((m) => m.from !== '');
    expect(sent.map((m) => /id ([0-9a-z]{16})/.exec(m.raw.toString())?.[1])).toEqual([whole]);
    // Only the entry whose envelope could still be read gets a bounce (with its surviving headers).
    const bounces = upstream.messages.filter((m) => m.from === '');
    expect(bounces).toHaveLength(1);
    expect(bounces[0]!.raw.toString()).toContain(`id ${tornContent}`);
    const corrupt = await files(path.join(spoolDir, 'corrupt'));
    for (const id of [tornState, tornContent]) {
      expect(corrupt).toContain(`${id}.eml`);
      expect(corrupt.some((f) => f.includes(id) && f.endsWith('.reason.txt'))).toBe(true);
    }
    const reasons = await Promise.all(corrupt.filter((f) => f.endsWith('.reason.txt')).map((f) => fs.readFile(path.join(spoolDir, 'corrupt', f), 'utf8')));
    expect(reasons.join('')).toMatch(/not valid JSON \(truncated\?\)/);
    expect(reasons.join('')).toMatch(/is \d+ bytes, not the \d+ committed \(truncated\?\)/);
  });

  it('a client that resets the connection mid-DATA: nothing queued, the file removed, no descriptor leaked', async () => {
    const relay = later(await startRelay({}));
    const fds = async () => (await fs.readdir('/proc/self/fd')).length;
    const before = await fds();
    const c = await session(relay.port);
    await c.command('MAIL FROM:<app@app.test>');
    await c.command('RCPT TO:<dev@target.test>');
    await c.command('DATA');
    await c.write(Buffer.alloc(300_000, 'z'));
    const msg = path.join(relay.dataDir, 'spool', 'msg');
    await waitFor(async () => (await fs.readdir(msg)).length === 1, 5000, 'ingest started');
    c.socket.resetAndDestroy();
    await waitFor(async () => (await fs.readdir(msg)).length === 0, 5000, 'partial file removed');
    expect((await relay.relay.getStatus()).queued).toBe(0);
    await waitFor(async () => (await fds()) <= before, 5000, 'descriptors back to where they were');
  });

  it('SIGKILL of the relay mid-DATA: after restart nothing is queued and no partial file is left', async () => {
    const dataDir = await tempDataDir();
    const port = await freePort();
    await saveConfig(dataDir, { listen: { port } });
    let running: RunningRelay = await runRelay(dataDir);
    cleanups.push(async () => {
      running.child.kill('SIGKILL');
      await running.exited;
      await fs.rm(dataDir, { recursive: true, force: true });
    });
    const c = await session(port);
    await c.command('MAIL FROM:<app@app.test>');
    await c.command('RCPT TO:<dev@target.test>');
    await c.command('DATA');
    await c.write(Buffer.alloc(300_000, 'k'));
    const msg = path.join(dataDir, 'spool', 'msg');
    await waitFor(async () => (await fs.readdir(msg)).length === 1, 5000, 'ingest started');
    running.child.kill('SIGKILL');
    expect(await running.exited).toBe('SIGKILL');
    expect(await c.reply()).toBe(''); // the client never got a 250
    expect(await fs.readdir(msg)).toHaveLength(1); // what the crash left

    running = await runRelay(dataDir);
    expect(await fs.readdir(msg)).toEqual([]);
    expect(await fs.readdir(path.join(dataDir, 'spool', 'tmp'))).toEqual([]);
    const status = JSON.parse((await cli(['status', '--json', '--data-dir', dataDir])).stdout) as { queued: number };
    expect(status.queued).toBe(0);
  });
});
