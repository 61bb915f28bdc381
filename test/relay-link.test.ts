// The tray app's link to the relay (src/desktop/relay-link.ts) with real relays: the embedded one in its own
// process (out/main/relay.js, the utility process entry, forked as Electron would with its V8 flags), and a
// service (`smtp-relay run`) that stops and comes back. Electron is not needed: the link is plain Node.
import { fork } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, describe, expect, it } from 'vitest';
import type { RelayStatus } from '../src/api/contract.js';
import { saveConfig } from '../src/config/store.js';
import { readPublicStatus } from '../src/control/public-status.js';
import { RelayLink, type EmbeddedRelay } from '../src/desktop/relay-link.js';
import { RELAY_EXEC_ARGV } from '../src/host/v8-flags.js';
import type { HostMessage } from '../src/host/utility-process.js';
import { runRelay, type RunningRelay } from './support/cli.js';
import { createUser, otherUsersUnavailable, unmountCheckouts } from './support/other-user.js';
import { freePort, tempDataDir, waitFor } from './support/relay.js';

const ENTRY = path.resolve('out/main/relay.js');
const SHIM = path.resolve('test/support/parent-port-shim.mjs');
const cleanup: (() => unknown)[] = [];

afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
  if (!otherUsersUnavailable()) unmountCheckouts();
});

/** What electron/relay-host.ts does with utilityProcess.fork, done with child_process.fork. */
function forkRelay(dataDir: string, seen: { execArgv?: string[]; pid?: number }): Promise<EmbeddedRelay> {
  const child = fork(ENTRY, ['--data-dir', dataDir], { execArgv: [...RELAY_EXEC_ARGV, '--import', SHIM], stdio: 'pipe' });
  seen.pid = child.pid;
  cleanup.push(() => child.kill('SIGKILL'));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    child.on('message', (m: HostMessage) => {
      if (m.type === 'listening') resolve({ exited, stop: async () => { child.send({ type: 'stop' }); await exited; } });
      if (m.type === 'failed') reject(new Error(m.message));
    });
  });
}

async function configured(dir?: string): Promise<{ dir: string; port: number }> {
  const d = dir ?? (await tempDataDir());
  const port = await freePort();
  await saveConfig(d, { listen: { port } });
  return { dir: d, port };
}

function statuses(link: RelayLink): RelayStatus[] {
  const seen: RelayStatus[] = [];
  link.api.onStatus((s) => seen.push(s));
  return seen;
}

async function send(port: number): Promise<void> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  await t.sendMail({ from: 'app@server.test', to: 'x@example.test', subject: 'hi', text: 'body' });
  t.close();
}

const portOpen = (port: number) => new Promise<boolean>((resolve) => {
  const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
  s.on('error', () => resolve(false));
});

describe('embedded: no service installed', () => {
  it('runs the relay in its own process with its own V8 flags, talks to it over the channel, restarts it after a crash, stops it on quit', async () => {
    const { dir, port } = await configured();
    const service = await tempDataDir(); // no service has ever run there
    const seen: { pid?: number } = {};
    const link = new RelayLink({ serviceDataDir: service, userDataDir: dir, embed: (d) => forkRelay(d, seen), pollMs: 200 });
    const events = statuses(link);
    expect(await link.start()).toEqual({ kind: 'embedded', dataDir: dir });
    const relayPid = seen.pid as number;
    expect(relayPid).not.toBe(process.pid);
    // The V8 flag is on the relay's own command line (in Electron, main-process js-flags set at run time do not apply).
    for (const flag of RELAY_EXEC_ARGV) expect(await fs.readFile(`/proc/${relayPid}/cmdline`, 'utf8')).toContain(flag);

    await send(port);
    await waitFor(() => events.some((s) => s.queued === 1), 5000, 'a status event with the queued message');
    expect((await link.api.listQueue()).total).toBe(1);

    process.kill(relayPid, 'SIGKILL'); // a crash in the relay: the tray stays, shows it stopped, starts it again
    await waitFor(() => events.at(-1)?.state === 'stopped', 3000, 'stopped shown');
    await waitFor(() => seen.pid !== relayPid && events.at(-1)?.state === 'unconfigured', 10_000, 'the relay started again');
    expect((await link.api.getStatus()).queued).toBe(1); // nothing lost

    await link.stop();
    expect(await portOpen(port)).toBe(false);
    await expect(fs.access(path.join(dir, 'spool', 'lock'))).rejects.toThrow(/ENOENT/); // lock released: a graceful stop
  });
});

describe('client of the service', () => {
  let service: RunningRelay | null = null;
  afterAll(() => service?.child.kill('SIGKILL'));

  it('uses the running service instead of embedding; shows it stopped within 2 s and reconnects when it is back; quitting leaves it running', async () => {
    const { dir, port } = await configured();
    service = await runRelay(dir);
    let embedded = 0;
    const link = new RelayLink({ serviceDataDir: dir, userDataDir: await tempDataDir(), embed: () => { embedded++; throw new Error('must not embed'); }, pollMs: 250 });
    const events = statuses(link);
    expect(await link.start()).toEqual({ kind: 'client', dataDir: dir, service: true });
    await send(port);
    await waitFor(() => events.some((s) => s.queued === 1), 5000, 'live status events from the service');

    service.child.kill('SIGTERM');
    const t0 = Date.now();
    await waitFor(() => events.at(-1)?.state === 'stopped', 2000, 'grey within 2 s');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(link.mode).toEqual({ kind: 'service-stopped', dataDir: dir });
    expect(events.at(-1)?.health.title).toBe('Service stopped'); // the tray's tooltip and the window's header say so
    await expect(link.api.getConfig()).rejects.toThrow(/service is stopped: start it/);

    service = await runRelay(dir);
    await waitFor(() => events.at(-1)?.state === 'unconfigured', 3000, 'reconnected');
    expect(link.mode).toEqual({ kind: 'client', dataDir: dir, service: true });
    expect((await link.api.listQueue()).total).toBe(1);

    await link.stop();
    expect(await portOpen(port)).toBe(true); // the service keeps relaying
    expect(embedded).toBe(0);
  });

  it.skipIf(otherUsersUnavailable())('a user who is not an administrator gets a read-only tray: state and counts, every action refused with the reason', async () => {
    const { dir, port } = await configured();
    service = await runRelay(dir);
    await send(port);
    await waitFor(async () => (await readPublicStatus(dir))?.queued === 1, 5000, 'the public status to count the message');
    const user = createUser('smtprelay-viewer');
    const script = `
      const { RelayLink } = await import(${JSON.stringify(path.resolve('dist/desktop/relay-link.js'))});
      const link = new RelayLink({ serviceDataDir: ${JSON.stringify(dir)}, userDataDir: '/nonexistent', embed: () => { throw new Error('embedded'); } });
      const mode = await link.start();
      const status = await link.api.getStatus();
      const refused = await link.api.retryAll().then(() => 'done', (e) => e.message);
      console.log(JSON.stringify({ mode, queued: status.queued, state: status.state, access: status.access, refused }));
      await link.stop();`;
    const r = await user.exec(process.execPath, ['--input-type=module', '-e', script]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { mode: unknown; queued: number; state: string; refused: string };
    expect(out).toMatchObject({ mode: { kind: 'read-only', dataDir: dir }, queued: 1, state: 'unconfigured', access: 'read-only' });
    expect(out.refused).toMatch(/Only an administrator can do this/);
  });
});
