// The control channel as an attacker and a second user of the machine meet it: real `smtp-relay` processes,
// real Unix sockets, a second local user created for the test.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelayError } from '../src/api/contract.js';
import { controlAddress } from '../src/control/address.js';
import { connectControl } from '../src/control/client.js';
import { proofOf, readControlKey } from '../src/control/key.js';
import { publishStatus, readPublicStatus, statusFile } from '../src/control/public-status.js';
import { stoppedStatus } from '../src/health/model.js';
import { saveConfig } from '../src/config/store.js';
import { cli, runRelay, type RunningRelay } from './support/cli.js';
import { createUser, otherUsersUnavailable, unmountCheckouts, type OtherUser } from './support/other-user.js';
import { freePort, tempDataDir, waitFor } from './support/relay.js';

const noOtherUsers = otherUsersUnavailable();
const running: RunningRelay[] = [];

async function startRelayIn(dataDir: string): Promise<RunningRelay & { port: number }> {
  const port = await freePort();
  await saveConfig(dataDir, { listen: { port } });
  const r = await runRelay(dataDir);
  running.push(r);
  return { ...r, port };
}

async function stop(r: RunningRelay, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  r.child.kill(signal);
  await r.exited;
}

async function queueOne(port: number, to = 'someone@example.test'): Promise<void> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  await t.sendMail({ from: 'app@server.test', to, subject: 'Secret subject 4711', text: 'body' });
  t.close();
}

/** A listener at `address` that records every byte a client sends it; it answers nothing of its own. */
async function impostor(address: string): Promise<{ received: () => string; close: () => Promise<void> }> {
  let received = '';
  const server = net.createServer((s) => {
    s.setEncoding('utf8');
    s.on('data', (d: string) => { received += d; });
  });
  await new Promise<void>((r) => server.listen(address, r));
  return { received: () => received, close: () => new Promise((r) => server.close(() => r())) };
}

afterAll(async () => {
  for (const r of running) r.child.kill('SIGKILL');
  if (!noOtherUsers) unmountCheckouts();
});

describe('who the CLI talks to', () => {
  it('sends nothing to a process that took the relay\'s address, and says so', async () => {
    // A data directory deep enough that the socket cannot live in it: the channel uses a Linux abstract
    // socket, whose name anyone can read in /proc/net/unix while the relay runs and take while it is down.
    const deep = path.join(await tempDataDir(), 'x'.repeat(60), 'SMTP Relay Tray');
    const relay = await startRelayIn(deep);
    const key = await readControlKey(deep);
    const address = controlAddress(deep, key as Buffer);
    expect(address.startsWith('\0')).toBe(true);
    expect(execFileSync('cat', ['/proc/net/unix'], { encoding: 'utf8' })).toContain(`@${address.slice(1)}`);
    await stop(relay);

    const fake = await impostor(address);
    try {
      const r = await cli(['password', 'set', '--data-dir', deep], { input: 'Pa55-word-never-sent\n' });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/is not the relay for .*could not prove that it holds .*control\.key, so nothing was sent/);
      expect(r.stdout).not.toMatch(/stored/);
      // All the impostor ever got: the client's hello with a random nonce. No method, no password.
      expect(fake.received()).toMatch(/^\{"hello":1,"nonce":"[0-9a-f]{32}"\}\n$/);

      // The real relay, started while the impostor holds the address, refuses to run half-reachable.
      const again = await runRelay(deep).then(() => 'started', (e: Error) => e.message);
      expect(again).toMatch(/cannot serve the control channel at @smtp-relay-[0-9a-f]{32}: .*EADDRINUSE/);
    } finally {
      await fake.close();
    }
  });

  it('the relay answers nothing before the client proves it holds the key, and logs the refusal', async () => {
    const dir = await tempDataDir();
    const relay = await startRelayIn(dir);
    const address = controlAddress(dir, (await readControlKey(dir)) as Buffer);
    const exchange = async (lines: string[]) => {
      const s = net.connect(address).on('error', () => {}); // closed unanswered over the handshake cap
      let got = '';
      s.setEncoding('utf8').on('data', (d: string) => { got += d; });
      await new Promise((r) => s.once('connect', r));
      for (const l of lines) s.write(l + '\n');
      await new Promise((r) => s.once('close', r));
      return got;
    };
    // A call without a handshake: refused, no result.
    expect(await exchange(['{"id":1,"method":"getStatus"}'])).toBe('{"refused":"not a control client"}\n');
    // A handshake with a made-up proof: the relay shows its proof, then refuses.
    const got = await exchange(['{"hello":1,"nonce":"00112233445566778899aabbccddeeff"}', `{"proof":"${'0'.repeat(64)}"}`]);
    expect(got).toMatch(/^\{"hello":1,"nonce":"[0-9a-f]{32}","proof":"[0-9a-f]{64}"\}\n\{"refused":"the client does not hold the control key"\}\n$/);
    expect(got).not.toMatch(/"result"/);
    await waitFor(() => /control connection refused: the client does not hold the control key/.test(relay.output()), 5000, 'the refusal in the log');
    // Refused again and again (any local user can, where the address is an abstract socket): the log stays short.
    await Promise.all(Array.from({ length: 40 }, () => exchange(['{"id":1,"method":"getStatus"}'])));
    expect(relay.output().match(/control connection refused: /g)).toHaveLength(5);
    // The key's holder still gets in.
    expect(JSON.parse((await cli(['status', '--json', '--data-dir', dir])).stdout)).toMatchObject({ state: 'unconfigured' });
    await stop(relay);
  });

  it('a client that holds the key but sends something other than a call is cut off, and the log says why', async () => {
    const dir = await tempDataDir();
    const relay = await startRelayIn(dir);
    const key = (await readControlKey(dir)) as Buffer;
    const s = net.connect(controlAddress(dir, key));
    const lines: string[] = [];
    let buffer = '';
    s.setEncoding('utf8').on('data', (d: string) => {
      buffer += d;
      for (let nl; (nl = buffer.indexOf('\n')) >= 0; buffer = buffer.slice(nl + 1)) lines.push(buffer.slice(0, nl));
    });
    const closed = new Promise((r) => s.once('close', r));
    const mine = '00112233445566778899aabbccddeeff';
    s.write(`{"hello":1,"nonce":"${mine}"}\n`);
    await waitFor(() => lines.length === 1, 5000, 'the relay\'s hello');
    const theirs = (JSON.parse(lines[0]!) as { nonce: string }).nonce;
    s.write(`${JSON.stringify({ proof: proofOf(key, 'client', theirs, mine) })}\n`);
    await waitFor(() => lines.length === 2, 5000, 'the welcome');
    expect(lines[1]).toBe('{"welcome":1}');
    s.write('{"method":"getStatus"}\n'); // no id: not a call
    await closed;
    expect(lines).toHaveLength(2);
    await waitFor(() => /control connection closed: control message is not a call/.test(relay.output()), 5000, 'the reason in the log');
    await stop(relay);
  });

  it('the socket is owner-only from the moment it exists, and the umask is put back', async () => {
    const dir = await tempDataDir();
    const relay = await startRelayIn(dir);
    const sock = controlAddress(dir, (await readControlKey(dir)) as Buffer);
    expect((await fs.stat(sock)).mode & 0o777).toBe(0o600);
    // Files the relay creates later (log, queue) follow the relay's own umask, 077: nothing group/world-readable.
    await queueOne(relay.port);
    for (const f of await fs.readdir(dir, { recursive: true })) {
      const st = await fs.stat(path.join(dir, f)).catch(() => null); // null: removed meanwhile (delivered content)
      if (!st || f.startsWith('control')) continue; // control/ and status.json are public on purpose
      expect([f, (st.mode & 0o077).toString(8)]).toEqual([f, '0']);
    }
    await stop(relay);
  });
});

describe.skipIf(noOtherUsers)('a second local user', () => {
  let other: OtherUser;
  let dir: string;
  let relay: RunningRelay & { port: number };

  beforeAll(async () => {
    other = createUser('smtprelay-other');
    dir = await tempDataDir();
    // A data directory as umask 022 and an old version left it: readable by everyone.
    await fs.chmod(dir, 0o755);
    await fs.mkdir(path.join(dir, 'spool'), { mode: 0o755 });
    await fs.mkdir(path.join(dir, 'logs'), { mode: 0o755 });
    relay = await startRelayIn(dir);
    await queueOne(relay.port, 'ceo@example.test');
    // The public status follows within 250 ms of a change.
    await waitFor(async () => (await readPublicStatus(dir))?.queued === 1, 5000, 'the public status to count the message');
  });

  afterAll(async () => {
    await stop(relay);
  });

  it('the relay made an existing, world-readable data directory private and said so', async () => {
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o711);
    expect((await fs.stat(path.join(dir, 'spool'))).mode & 0o777).toBe(0o700);
    expect((await fs.stat(path.join(dir, 'logs'))).mode & 0o777).toBe(0o700);
    expect((await fs.stat(path.join(dir, 'config.json'))).mode & 0o777).toBe(0o600);
    expect(relay.output()).toMatch(/data directory made private to its owner: .*spool 0755 -> 0700/);
  });

  it('sees the state and the counts', async () => {
    const r = await other.cli(['status', '--json', '--data-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({ state: 'unconfigured', queued: 1, listening: `127.0.0.1:${relay.port}` });
    expect(s.lastDelivery).toBeNull();
  });

  it('cannot read mail, the log, the config or the key, nor act on the queue or the secrets', async () => {
    for (const args of [['queue', 'list'], ['config', 'set', 'listen.port', '2526'], ['password', 'set'], ['queue', 'retry', '--all']]) {
      const r = await other.cli([...args, '--data-dir', dir], { input: 'stolen\n' });
      expect([args.join(' '), r.code]).toEqual([args.join(' '), 1]);
      expect(r.stderr).toMatch(/only the relay's owner or an administrator may do this/);
    }
    for (const f of ['config.json', 'control.key', 'logs/relay.log', 'spool']) {
      const r = await other.exec('cat', [path.join(dir, f)]);
      expect([f, r.code]).toEqual([f, 1]);
      expect(r.stdout).not.toMatch(/ceo@example|Secret subject|listen/);
    }
    expect((await other.exec('ls', [dir])).code).not.toBe(0);
    // Nor talk to the socket, nor plant a file where the relay publishes its status.
    const sock = controlAddress(dir, (await readControlKey(dir)) as Buffer);
    const r = await other.exec(process.execPath, ['-e', `require('net').connect(${JSON.stringify(sock)}).on('error', (e) => { console.log(e.code); process.exit(3); })`]);
    expect(r).toMatchObject({ code: 3, stdout: 'EACCES\n' });
    expect((await other.exec('touch', [path.join(dir, 'control', 'status.json')])).code).toBe(1);
  });

  it('sees a relay that died without a word as stopped', async () => {
    const d2 = await tempDataDir();
    const r2 = await startRelayIn(d2);
    await stop(r2, 'SIGKILL');
    const r = await other.cli(['status', '--json', '--data-dir', d2]);
    expect(JSON.parse(r.stdout)).toMatchObject({ state: 'stopped', listening: null });
  });
});

describe.skipIf(noOtherUsers)('the relay as a service account, an administrator and a user', () => {
  it('the administrator (root) manages the service over the channel and its files stay the service\'s; a user only sees', async () => {
    const service = createUser('smtprelay-svc');
    const viewer = createUser('smtprelay-other');
    const parent = await tempDataDir();
    await fs.chmod(parent, 0o711); // like /var/lib: the service can reach its own folder inside
    const dir = path.join(parent, 'service');
    await fs.mkdir(dir);
    await fs.chown(dir, service.uid, service.uid);
    const port = await freePort();
    expect((await service.cli(['config', 'set', 'listen.port', String(port), '--data-dir', dir])).code).toBe(0);
    const child = service.spawnCli(['run', '--data-dir', dir]);
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => { out += d; });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await waitFor(() => /^listening on /m.test(out), 20_000, 'the service listening');
      await queueOne(port, 'audit@example.test');

      const list = await cli(['queue', 'list', '--json', '--data-dir', dir]);
      expect(list.code, list.stderr).toBe(0);
      expect(JSON.parse(list.stdout)).toMatchObject({ total: 1 });
      const set = await cli(['config', 'set', 'delivery.maxQueueTime', '4d', '--data-dir', dir]);
      expect(set.code, set.stderr).toBe(0);
      // Saved by the service itself: still its file, still private.
      const st = await fs.stat(path.join(dir, 'config.json'));
      expect([st.uid, st.mode & 0o777]).toEqual([service.uid, 0o600]);

      const seen = await viewer.cli(['status', '--json', '--data-dir', dir]);
      expect(JSON.parse(seen.stdout)).toMatchObject({ queued: 1, listening: `127.0.0.1:${port}` });
      const refused = await viewer.cli(['queue', 'list', '--data-dir', dir]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/only the relay's owner or an administrator/);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    // With the service stopped, the administrator's CLI does not open the service's spool as root.
    const offline = await cli(['queue', 'retry', '--all', '--data-dir', dir]);
    expect(offline.code).toBe(1);
    expect(offline.stderr).toMatch(/belongs to another account .*start the relay/);
  });
});

describe('the public status file', () => {
  it('names no mailbox: a reply quoted in the last error keeps only the domain', async () => {
    const dir = await tempDataDir();
    await fs.mkdir(path.join(dir, 'control'), { recursive: true });
    const reply = '550 5.1.1 <ceo@example.test>: Recipient address rejected: User unknown';
    const status = {
      ...stoppedStatus(), state: 'running' as const, queued: 3, lastError: `"Ceo.Name"@example.test: ${reply}`,
      lastDelivery: { id: '0mwyz21co8ntdohg', to: 'ceo@example.test', status: 'bounced' as const, at: 1, reply },
    };
    const done = await publishStatus({ getStatus: () => Promise.resolve(status), onStatus: () => () => {} }, dir);
    const text = await fs.readFile(statusFile(dir), 'utf8');
    await done();
    expect(text).not.toMatch(/ceo|Ceo/);
    expect(JSON.parse(text).status).toMatchObject({ queued: 3, lastDelivery: null, lastError: '…@example.test: 550 5.1.1 <…@example.test>: Recipient address rejected: User unknown' });
    await fs.rm(dir, { recursive: true, force: true });
  });
});

describe('the spool lock across pid reuse', () => {
  it.skipIf(process.getuid?.() !== 0)('a relay killed by a power cut starts again although its pid now belongs to another process', async () => {
    const dir = await tempDataDir();
    const first = await startRelayIn(dir);
    await queueOne(first.port);
    const pid = first.child.pid as number;
    await stop(first, 'SIGKILL');
    // Give the dead relay's pid to a new, unrelated process, as Windows or a rebooted Linux may.
    let squatter;
    for (let i = 0; i < 20 && squatter?.pid !== pid; i++) {
      squatter?.kill();
      await fs.writeFile('/proc/sys/kernel/ns_last_pid', String(pid - 1));
      squatter = spawn('sleep', ['30']);
    }
    expect(squatter?.pid, 'the pid could not be handed out again (other processes took it)').toBe(pid);
    try {
      const lock = JSON.parse(await fs.readFile(path.join(dir, 'spool', 'lock'), 'utf8')) as { pid: number };
      expect(lock.pid).toBe(pid);
      const second = await runRelay(dir);
      running.push(second);
      const status = await readPublicStatus(dir);
      expect(status).toMatchObject({ queued: 1 });
      await stop(second);
    } finally {
      squatter?.kill();
    }
  });
});

describe('config is live', () => {
  it('a hand edit takes effect within 2 s; a bad one is refused with the reason and the last good config stays; an old save is refused', async () => {
    const dir = await tempDataDir();
    const relay = await startRelayIn(dir);
    const remote = await connectControl(dir);
    if (!remote) throw new Error('no relay');
    try {
      const file = path.join(dir, 'config.json');
      const before = await remote.getStatus();
      const edited = JSON.parse(await fs.readFile(file, 'utf8')) as { delivery: { maxQueueTime: string } };
      edited.delivery.maxQueueTime = '2d';
      const t0 = Date.now();
      await fs.writeFile(file, JSON.stringify(edited, null, 2)); // as Notepad would
      await waitFor(async () => (await remote.getConfig()).delivery.maxQueueTime === '2d', 2000, 'the edit in force');
      expect(Date.now() - t0).toBeLessThan(2000);

      // A save based on the configuration as it was before the edit would undo it: refused.
      const stale = await remote.setConfig({ ...(await remote.getConfig()), delivery: { ...(await remote.getConfig()).delivery, maxQueueTime: '9d' } }, before.configRevision)
        .then(() => 'saved', (e: RelayError) => e.kind);
      expect(stale).toBe('conflict');
      expect((await remote.getConfig()).delivery.maxQueueTime).toBe('2d');

      await fs.writeFile(file, '{"version":1,"listen":{"port":"twenty-five"}}');
      const s = await waitFor(async () => { const st = await remote.getStatus(); return st.configError ? st : null; }, 2000, 'the refusal');
      expect(s.configError).toMatch(/listen\.port: must be a number/);
      expect((await remote.getConfig()).delivery.maxQueueTime).toBe('2d');
      expect(s.listening).toBe(`127.0.0.1:${relay.port}`);
      await waitFor(() => /error config\.json refused, the last good configuration stays in force/.test(relay.output()), 2000, 'the log line');
      const shown = await cli(['status', '--data-dir', dir]);
      expect(shown.stdout).toMatch(/config: +config\.json refused/);
    } finally {
      remote.close();
      await stop(relay);
    }
  });

  it('config set goes through the running relay', async () => {
    const dir = await tempDataDir();
    const relay = await startRelayIn(dir);
    const r = await cli(['config', 'set', 'delivery.maxQueueTime', '3d', '--data-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(relay.output()).toMatch(/info configuration changed\n/);
    const remote = await connectControl(dir);
    expect((await remote?.getConfig())?.delivery.maxQueueTime).toBe('3d');
    remote?.close();
    await stop(relay);
  });
});
