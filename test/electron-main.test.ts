// The tray app's composition root, electron/main.ts as built (out/main/main.js), run under Node with
// the stand-in 'electron' of test/support/electron-standin/: the real relay in a utility process the app
// forks (embedded mode) or a real `smtp-relay run` as the service (client mode), the real page in Chromium
// through the real preload, a real keychain, real SMTP on loopback. Electron itself cannot launch here;
// what this covers is electron/'s wiring of src/ to Electron's API.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../src/config/schema.js';
import { saveConfig } from '../src/config/store.js';
import { CONTENT_SECURITY_POLICY } from '../src/desktop/app-protocol.js';
import { RELAY_METHODS } from '../src/api/calls.js';
import { RELAY_EXEC_ARGV } from '../src/host/v8-flags.js';
import { chromiumInstalled } from './support/browser.js';
import { cli, runRelay, type RunningRelay } from './support/cli.js';
import { APP_ENTRY, appHome, launchTrayApp, openWindows, trayShows, type TrayApp } from './support/electron-app.js';
import { typecheckElectronAgainstStandin } from './support/electron-standin/typecheck.js';
import { startTestKeyring, type TestKeyring } from './support/keyring.js';
import { RawSmtp } from './support/raw-smtp.js';
import { freePort, waitFor } from './support/relay.js';
import { testCertificates } from './support/tls.js';
import { startUpstream, type Upstream } from './support/upstream.js';

const runnable = chromiumInstalled && existsSync(APP_ENTRY);
const PASSWORD = 'Tray-Wired-Pa55!';
const USER = 'jts@contoso.com';

function sendMail(port: number, n: number) {
  return nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, name: 'jts.localdomain' }).sendMail({
    envelope: { from: 'jts@jts.localdomain', to: ['dev@contoso.com'] },
    raw: `From: jts@jts.localdomain\r\nTo: dev@contoso.com\r\nSubject: tray ${n}\r\nMessage-ID: <tray${n}@jts.localdomain>\r\n\r\nBody ${n}.\r\n`,
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

/** The pid in the spool lock: the process that runs the relay. */
async function lockOwner(dataDir: string): Promise<number> {
  return (JSON.parse(await fs.readFile(path.join(dataDir, 'spool', 'lock'), 'utf8')) as { pid: number }).pid;
}

/** A running process's arguments (Linux /proc). */
async function commandLine(pid: number): Promise<string[]> {
  return (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function relayLog(dataDir: string): Promise<string> {
  return fs.readFile(path.join(dataDir, 'logs', 'relay.log'), 'utf8').catch(() => '');
}

describe('electron/ type-checks against the stand-in', () => {
  it('uses no Electron member the stand-in lacks, with the signatures of electron.d.ts', async () => {
    expect(await typecheckElectronAgainstStandin()).toBe('');
  }, 180_000);
});

describe.skipIf(!runnable)('the tray app (out/main) with an embedded relay, under a stand-in electron', () => {
  let keyring: TestKeyring;
  let upstream: Upstream;
  let home: Awaited<ReturnType<typeof appHome>>;
  let dataDir = '';
  let port = 0;
  let env: NodeJS.ProcessEnv = {};
  let app: TrayApp;
  let relayPid = -1;
  const launched: TrayApp[] = [];
  const launch = (args: string[] = []) => {
    const a = launchTrayApp({ args: ['--data-dir', dataDir, ...args], env });
    launched.push(a);
    return a;
  };

  beforeAll(async () => {
    keyring = await startTestKeyring();
    upstream = await startUpstream({ auth: { user: USER, pass: PASSWORD } });
    home = await appHome();
    env = { ...home.env, DBUS_SESSION_BUS_ADDRESS: keyring.busAddress };
    dataDir = path.join(home.dir, 'data');
    port = await freePort();
    const certs = await testCertificates();
    const config: ConfigInput = {
      listen: { port },
      delivery: { retrySchedule: '1s' },
      smarthost: { host: 'localhost', port: upstream.port, security: 'starttls', caFile: certs.caCertPath, auth: { method: 'password', username: USER } },
    };
    await saveConfig(dataDir, config);
    app = launch();
  }, 60_000);

  afterAll(async () => {
    for (const a of launched) await a.kill();
    await upstream?.stop();
    await keyring?.stop();
    await home?.remove();
  });

  it('starts as Electron expects and shows the tray, the relay and the settings window', async () => {
    const s = await app.waitFor('the tray, the relay and the window', (st) =>
      st.tray?.menu && st.windows[0]?.visible && st.windows[0].url && st.ipc.invocations.length > 0 && st);
    expect(s.app).toMatchObject({
      name: 'SMTP Relay Tray', appUserModelId: 'com.smtprelaytray.app', singleInstance: 'primary', applicationMenu: null,
      privilegedSchemes: [{ scheme: 'app', privileges: { standard: true, secure: true } }],
    });
    // The relay runs in a utility process with its own V8 flag (a main-process js-flags switch would not
    // reach the relay's heap), not in the app's process: that child holds the spool lock.
    expect(s.utilityProcesses).toEqual([{
      modulePath: path.join(path.dirname(APP_ENTRY), 'relay.js'), args: ['--data-dir', dataDir], execArgv: RELAY_EXEC_ARGV,
      pid: expect.any(Number), exitCode: null,
    }]);
    relayPid = s.utilityProcesses[0]?.pid ?? -1;
    expect(relayPid).not.toBe(app.child.pid);
    expect(await lockOwner(dataDir)).toBe(relayPid);
    for (const flag of RELAY_EXEC_ARGV) expect(await commandLine(relayPid)).toContain(flag);
    const userData = path.join(env.XDG_CONFIG_HOME as string, 'SMTP Relay Tray');
    expect(s.app.paths).toMatchObject({ userData, sessionData: path.join(userData, 'chromium') });
    // A tray app keeps running with its window closed: it must listen to window-all-closed.
    expect(s.app.listeners).toMatchObject({ 'window-all-closed': 1, 'before-quit': 1, 'second-instance': 1 });

    expect(s.tray?.tooltip).toMatch(/^SMTP Relay/);
    expect(s.tray?.clickListeners).toBe(1);
    expect(s.tray?.menu?.map((i) => i.label).filter(Boolean)).toEqual([
      'Queue empty', 'Open settings', 'Show queue', 'Retry all now', 'Pause delivery', 'Start at login', 'Open log folder', 'Quit',
    ]);
    // The relay is up (it looks for the smarthost's password when there is mail to send): green, empty.
    const idle = await app.waitFor('the green tray', (st) => trayShows(st, 'idle', 0) && st);
    expect(idle.tray?.tooltip).toBe('SMTP Relay — queue empty');
    const smtp = await RawSmtp.connect(port);
    expect(await smtp.reply()).toMatch(/^220 /);
    smtp.close();

    const [win] = s.windows;
    expect(win?.url).toBe('app://relay/index.html#/settings');
    expect(win?.options).toMatchObject({
      show: false,
      webPreferences: {
        preload: path.resolve(APP_ENTRY, '../../preload/preload.cjs'),
        contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInSubFrames: false, webSecurity: true, webviewTag: false,
      },
    });
    // Locked down: navigation and window-open handlers on the window's contents, permissions refused.
    expect(s.webContents[win?.webContentsId ?? -1]).toMatchObject({ listeners: { 'will-navigate': 1, 'will-redirect': 1, 'will-attach-webview': 1 }, windowOpenHandler: true });
    expect(await app.command({ cmd: 'permission', permission: 'notifications' })).toEqual({ checked: false, requested: false });
    expect(s.pageProblems).toEqual([]);
  }, 60_000);

  it('the page shows the relay status through the preload; every app:// response carries the CSP; navigation away is refused', async () => {
    const header = await app.waitForPage('the status header', 1, () => {
      const state = document.querySelector('[data-testid="relay-state"]')?.textContent;
      return state && document.body.innerText.includes('Accepting mail on') ? { state, text: document.body.innerText } : null;
    });
    expect(header.text).toContain(`Accepting mail on 127.0.0.1:${port}`);
    // window.relay is the preload's: exactly the contract, and nothing of Electron or Node leaks.
    const page = await app.pageEval(1, () => ({
      relay: Object.keys((window as unknown as { relay: object }).relay).sort(),
      leaks: ['require', 'process', 'ipcRenderer', 'electron', 'module'].filter((k) => k in window),
    }));
    expect(page.relay).toEqual([...RELAY_METHODS, 'onStatus', 'onTestStep'].sort());
    expect(page.leaks).toEqual([]);
    // The calls came through ipcMain, from a sender the app trusts.
    const s = await app.snapshot();
    expect(s.ipc.invocations).toContainEqual({ channel: 'relay:getStatus', threw: null });
    expect(s.ipc.invocations.filter((i) => i.threw)).toEqual([]);
    expect(s.protocols.schemes).toEqual(['app']);
    expect(s.protocols.responses.length).toBeGreaterThanOrEqual(2);
    for (const r of s.protocols.responses) {
      expect(r).toMatchObject({ status: 200, headers: { 'content-security-policy': CONTENT_SECURITY_POLICY } });
      expect(r.url).toMatch(/^app:\/\/relay\//);
    }

    await app.pageEval(1, () => { location.href = 'https://example.com/phish'; });
    await app.waitFor('the navigation to be refused', (st) => st.blockedNavigations.includes('https://example.com/phish'));
    await app.pageEval(1, () => void window.open('https://example.com/popup'));
    await app.waitFor('window.open to be refused', (st) => st.blockedNavigations.includes('window.open https://example.com/popup'));
    const after = await app.snapshot();
    expect(after.windows[0]?.url).toBe('app://relay/index.html#/settings');
    expect(await app.pageEval(1, () => location.pathname)).toBe('/index.html');
    expect(after.pageProblems).toEqual([]);
  }, 60_000);

  it('a password set in the window is stored in the keychain and used: mail sent to the relay reaches the smarthost', async () => {
    await app.pageEval(1, (pw: string) => (window as unknown as { relay: { setPassword(p: string): Promise<void> } }).relay.setPassword(pw), PASSWORD);
    expect(await keyring.lookup('smtp-relay-tray', `${USER}@localhost`)).toBe(PASSWORD);
    await app.pageEval(1, () => (window as unknown as { relay: { resume(): Promise<void> } }).relay.resume());
    const info = await sendMail(port, 1);
    expect(info.response).toMatch(/^250 /);
    await app.waitFor('delivery', () => upstream.messages.length === 1);
    expect(upstream.messages[0]).toMatchObject({ authUser: USER, secure: true, to: ['dev@contoso.com'] });
    // Status events reach the page (webContents.send -> the preload's listener) and the tray redraws. The
    // event after a delivery may come up to a second later (status events are spaced while things change).
    await app.waitFor('an idle tray, and a status event the page received', (st) => trayShows(st, 'idle', 0)
      && st.ipc.sent.some((m) => m.channel === 'relay:status' && m.delivered));
    await app.waitForPage('the delivery in the header', 1, () => !document.body.innerText.includes('No delivery yet'));
  }, 60_000);

  it('each tray menu item does what it says', async () => {
    await app.clickTrayMenu('Pause delivery');
    let s = await app.waitFor('the paused tray', (st) => st.tray?.menu?.some((i) => i.label === 'Resume delivery') && st);
    expect(trayShows(s, 'paused', 0)).toBe(true);
    expect(s.tray?.tooltip).toMatch(/paused/i);
    await app.waitForPage('"Delivery paused" in the window', 1, () => document.querySelector('[data-testid="relay-state"]')?.getAttribute('data-state') === 'paused');

    // Mail waits while paused; "Retry all now" turns on and asks the relay to retry.
    await sendMail(port, 2);
    s = await app.waitFor('one queued', (st) => st.tray?.menu?.some((i) => i.label.startsWith('1 queued')) && st);
    expect(s.tray?.menu?.find((i) => i.label === 'Retry all now')?.enabled).toBe(true);
    await app.clickTrayMenu('Retry all now');
    await waitFor(async () => (await relayLog(dataDir)).includes('retry of all 1 waiting messages requested by the user'), 10_000, 'the retry in the log');
    expect(upstream.messages).toHaveLength(1); // still paused

    await app.clickTrayMenu('Resume delivery');
    await app.waitFor('the second message delivered', () => upstream.messages.length === 2);
    await app.waitFor('"Pause delivery" back and the queue empty', (st) =>
      st.tray?.menu?.some((i) => i.label === 'Pause delivery') && st.tray.menu.some((i) => i.label === 'Retry all now' && !i.enabled));
    await expect(app.clickTrayMenu('Retry all now')).rejects.toThrow(/disabled/);

    await app.clickTrayMenu('Show queue');
    await app.waitFor('the queue view', (st) => st.windows[0]?.url === 'app://relay/index.html#/queue');
    await app.waitForPage('the queue page', 1, () => [...document.querySelectorAll('h2')].some((h) => h.textContent === 'Queue'));
    await app.clickTrayMenu('Open settings');
    await app.waitFor('the settings view', (st) => st.windows[0]?.url === 'app://relay/index.html#/settings');
    expect(openWindows(await app.snapshot())).toHaveLength(1); // the same window, not a second one

    await app.clickTrayMenu('Open log folder');
    await app.waitFor('the log folder opened', (st) => st.openedPaths.includes(path.join(dataDir, 'logs')));

    // Login items do not exist on Linux: the item is there, disabled.
    await expect(app.clickTrayMenu('Start at login')).rejects.toThrow(/disabled/);
    expect((await app.snapshot()).app.loginItem).toBeNull();

    // A display's scale changes: the tray sets its image again, the same icon (Windows picks the size then).
    const before = await app.snapshot();
    expect(before.screen.listeners).toEqual({ 'display-metrics-changed': 1 });
    await app.command({ cmd: 'display-scale-changed', scaleFactor: 1.5 });
    const redrawn = await app.snapshot();
    expect(redrawn.tray?.imageChanges).toBe((before.tray?.imageChanges ?? 0) + 1);
    expect(trayShows(redrawn, 'idle', 0)).toBe(true);
    expect((await app.snapshot()).pageProblems).toEqual([]);
  }, 90_000);

  it('closing the window keeps the app and the relay; the tray icon and a second launch bring the window back; a second --hidden launch does not', async () => {
    await app.command({ cmd: 'close-window', windowId: 1 });
    let s = await app.waitFor('no window', (st) => openWindows(st).length === 0 && st);
    expect(s.app.quitCalls).toBe(0);
    expect(await portOpen(port)).toBe(true);

    await app.command({ cmd: 'click-tray' });
    s = await app.waitFor('a window from the tray click', (st) => openWindows(st)[0]?.visible && st);
    const fromClick = openWindows(s)[0];
    expect(fromClick?.url).toBe('app://relay/index.html#/settings');
    await app.command({ cmd: 'close-window', windowId: fromClick?.id ?? -1 });
    await app.waitFor('no window', (st) => openWindows(st).length === 0);

    const second = launch();
    expect(await second.exited).toBe(0);
    s = await app.waitFor('the window shown for the second launch', (st) => openWindows(st)[0]?.visible && st);
    expect(s.app.secondLaunches).toBe(1);
    expect(openWindows(s)).toHaveLength(1);
    const shown = openWindows(s)[0];
    expect(second.output()).not.toMatch(/could not start/);

    const hidden = launch(['--hidden']);
    expect(await hidden.exited).toBe(0);
    s = await app.waitFor('the hidden launch received', (st) => st.app.secondLaunches === 2 && st);
    expect(openWindows(s)).toEqual([shown]); // no new window, not brought forward
  }, 90_000);

  it('Quit stops the relay gracefully: the port closes, the spool lock is released, the relay process and the app exit 0', async () => {
    const lockFile = path.join(dataDir, 'spool', 'lock');
    expect(existsSync(lockFile)).toBe(true);
    expect(processAlive(relayPid)).toBe(true);
    await app.clickTrayMenu('Quit');
    expect(await app.exited).toBe(0);
    // The app waited for its relay: the utility process had exited 0 (stopped, not killed) before the app did.
    expect(app.finalState()?.utilityProcesses).toEqual([expect.objectContaining({ pid: relayPid, exitCode: 0 })]);
    expect(processAlive(relayPid)).toBe(false);
    expect(await portOpen(port)).toBe(false);
    expect(existsSync(lockFile)).toBe(false);
    expect(await relayLog(dataDir)).toMatch(/stopped\s*$/);
  }, 60_000);
});

describe.skipIf(!runnable)('the tray app when its relay cannot start', () => {
  it('--hidden: no window; the tray turns grey and says why, a notification opens the settings, "Start relay" starts it once the port is free', async () => {
    const home = await appHome();
    const dataDir = path.join(home.dir, 'data');
    const port = await freePort();
    const upstream = await startUpstream();
    await saveConfig(dataDir, { listen: { port }, smarthost: { host: '127.0.0.1', port: upstream.port, security: 'none' } });
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', r));
    const app = launchTrayApp({ args: ['--data-dir', dataDir, '--hidden'], env: home.env });
    try {
      let s = await app.waitFor('the start failure', (st) => st.notifications.length > 0 && st);
      expect(s.notifications).toEqual([{ title: 'SMTP Relay could not start', body: expect.stringContaining('already in use'), shown: true, clickListeners: 1 }]);
      expect(trayShows(s, 'stopped', 0)).toBe(true);
      expect(s.tray?.tooltip).toMatch(/^SMTP Relay — not running: cannot listen on 127\.0\.0\.1:\d+/);
      expect(s.windows).toEqual([]);

      await app.command({ cmd: 'click-notification', index: 0 });
      s = await app.waitFor('the window from the notification', (st) => openWindows(st)[0]?.visible && st);
      expect(s.windows[0]?.url).toBe('app://relay/index.html#/settings');

      await new Promise((r) => squatter.close(r));
      await app.clickTrayMenu('Start relay');
      s = await app.waitFor('the relay running', (st) => trayShows(st, 'idle', 0) && st);
      expect(s.tray?.menu?.map((i) => i.label)).toContain('Pause delivery');
      expect((await sendMail(port, 3)).response).toMatch(/^250 /);
      await app.waitFor('delivery', () => upstream.messages.length === 1);
      await app.command({ cmd: 'quit' });
      expect(await app.exited).toBe(0);
    } finally {
      await app.kill();
      squatter.close();
      await upstream.stop();
      await home.remove();
    }
  }, 90_000);
});

// Two ways the app finds a relay that runs already: the service's data directory (looked for first, unless
// a folder is named; moved here with SMTP_RELAY_SERVICE_DATA_DIR), and the folder named by --data-dir.
const clientModes = [
  {
    name: 'the service\'s data directory',
    launch: (dataDir: string) => ({ args: [], env: { SMTP_RELAY_SERVICE_DATA_DIR: dataDir } }),
    // Calls while the service is stopped say so (the tray offers to start the service).
    whileStopped: /The SMTP Relay service is stopped/,
  },
  {
    name: 'the folder named by --data-dir',
    launch: (dataDir: string) => ({ args: ['--data-dir', dataDir], env: {} }),
    whileStopped: /the relay is not running/,
  },
];

describe.skipIf(!runnable).each(clientModes)('the tray app as the face of a relay that runs already (`smtp-relay run` as the service) in $name', (mode) => {
  let upstream: Upstream;
  let home: Awaited<ReturnType<typeof appHome>>;
  let dataDir = '';
  let port = 0;
  let service: RunningRelay | null = null;
  let app: TrayApp;

  beforeAll(async () => {
    upstream = await startUpstream();
    home = await appHome();
    dataDir = path.join(home.dir, 'service');
    port = await freePort();
    await saveConfig(dataDir, { listen: { port }, delivery: { retrySchedule: '1s' }, smarthost: { host: '127.0.0.1', port: upstream.port, security: 'none' } });
    service = await runRelay(dataDir, home.env);
    const { args, env } = mode.launch(dataDir);
    app = launchTrayApp({ args, env: { ...home.env, ...env } });
  }, 60_000);

  afterAll(async () => {
    await app?.kill();
    if (service && service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGTERM');
    await service?.exited;
    await upstream?.stop();
    await home?.remove();
  });

  it('runs no relay of its own: the tray shows the service\'s state and count, the window works through the preload', async () => {
    let s = await app.waitFor('the green tray and the window', (st) => trayShows(st, 'idle', 0) && st.windows[0]?.visible && st);
    expect(s.utilityProcesses).toEqual([]); // nothing embedded
    expect(await lockOwner(dataDir)).toBe(service?.child.pid);
    // The user's own data directory stays unused.
    const userData = path.join(home.env.XDG_CONFIG_HOME as string, 'SMTP Relay Tray');
    expect(s.app.paths.userData).toBe(userData);
    expect(existsSync(path.join(userData, 'spool'))).toBe(false);
    expect(s.tray?.tooltip).toBe('SMTP Relay — queue empty');
    expect(s.tray?.menu?.map((i) => i.label).filter(Boolean)).toEqual([
      'Queue empty', 'Open settings', 'Show queue', 'Retry all now', 'Pause delivery', 'Start at login', 'Open log folder', 'Quit',
    ]);

    // A tray click reaches the service: paused there, and the mail it takes waits, counted in the tray.
    await app.clickTrayMenu('Pause delivery');
    expect((await sendMail(port, 10)).response).toMatch(/^250 /);
    s = await app.waitFor('the paused tray with one queued', (st) => trayShows(st, 'paused', 1) && st);
    expect(s.tray?.menu?.some((i) => /^1 queued/.test(i.label ?? ''))).toBe(true);
    const cliStatus = await cli(['status', '--data-dir', dataDir], { env: home.env });
    expect(cliStatus.stdout).toMatch(/paused/i);

    // The window: the service's status through the preload, and a call that only the relay can answer.
    await app.waitForPage('the paused header', 1, () => document.querySelector('[data-testid="relay-state"]')?.getAttribute('data-state') === 'paused');
    expect(await app.pageEval(1, () => document.body.innerText)).toContain(`Accepting mail on 127.0.0.1:${port}`);
    const queue = await app.pageEval(1, async () => {
      const page = await (window as unknown as { relay: { listQueue(): Promise<{ items: { subject: string }[] }> } }).relay.listQueue();
      return page.items.map((m) => m.subject);
    });
    expect(queue).toEqual(['tray 10']);

    await app.clickTrayMenu('Resume delivery');
    await app.waitFor('the message delivered through the service', () => upstream.messages.length === 1);
    await app.waitFor('the green tray again', (st) => trayShows(st, 'idle', 0));
    await app.clickTrayMenu('Show queue');
    await app.waitFor('the queue view', (st) => st.windows[0]?.url === 'app://relay/index.html#/queue');
    await app.clickTrayMenu('Open log folder');
    await app.waitFor('the service\'s log folder opened', (st) => st.openedPaths.includes(path.join(dataDir, 'logs')));
    expect((await app.snapshot()).pageProblems).toEqual([]);
  }, 90_000);

  it('the service stops: the tray turns grey within 2 s; it starts again: the tray reconnects by itself', async () => {
    const stoppedAt = Date.now();
    service?.child.kill('SIGTERM');
    await app.waitFor('the grey tray', (st) => trayShows(st, 'stopped', 0), 10_000);
    const greyAfterMs = Date.now() - stoppedAt;
    expect(await service?.exited).toBe(0);
    expect(greyAfterMs).toBeLessThan(2_000);
    let s = await app.snapshot();
    expect(s.utilityProcesses).toEqual([]); // still nothing embedded: the relay is the service's
    expect(s.tray?.menu?.map((i) => i.label)).toContain('Start relay');
    const refused = await app.pageEval(1, () => (window as unknown as { relay: { listQueue(): Promise<unknown> } }).relay.listQueue().then(() => 'answered', (e: Error) => e.message));
    expect(refused).toMatch(mode.whileStopped);

    service = await runRelay(dataDir, home.env);
    s = await app.waitFor('the green tray, reconnected', (st) => trayShows(st, 'idle', 0) && st, 15_000);
    expect(s.utilityProcesses).toEqual([]);
    // Reconnected for real: a tray click reaches the new service process.
    await app.clickTrayMenu('Pause delivery');
    await app.waitFor('the paused tray', (st) => trayShows(st, 'paused', 0));
    await app.clickTrayMenu('Resume delivery');
    await app.waitFor('the green tray', (st) => trayShows(st, 'idle', 0));
  }, 60_000);

  it('Quit: the app exits 0 and the service keeps running', async () => {
    await app.clickTrayMenu('Quit');
    expect(await app.exited).toBe(0);
    expect(app.finalState()?.utilityProcesses).toEqual([]);
    expect(service?.child.exitCode).toBeNull();
    expect(await portOpen(port)).toBe(true);
    expect(await lockOwner(dataDir)).toBe(service?.child.pid);
    expect((await sendMail(port, 11)).response).toMatch(/^250 /);
    await waitFor(() => upstream.messages.length === 2, 10_000, 'delivery by the service after the app quit');
  }, 60_000);
});

describe('the stand-in utilityProcess (for the relay hosted in a utility process)', () => {
  it('forks a module with process.parentPort: arguments, queued structured-clone messages both ways, piped stdout, exit code', async () => {
    const home = await appHome();
    const entry = path.join(home.dir, 'entry.mjs');
    const child = path.join(home.dir, 'child.mjs');
    await fs.writeFile(child, `
      console.log('argv ' + JSON.stringify(process.argv.slice(2)));
      setTimeout(() => process.parentPort.once('message', (e) => process.parentPort.postMessage({ got: e.data, isDate: e.data.when instanceof Date })), 200);
    `);
    await fs.writeFile(entry, `
      import { app, utilityProcess } from 'electron';
      app.whenReady().then(() => {
        const child = utilityProcess.fork(${JSON.stringify(child)}, ['--flag', 'x'], { stdio: 'pipe', execArgv: ['--max-semi-space-size=4'] });
        child.stdout.on('data', (d) => process.stdout.write('child: ' + d));
        child.on('spawn', () => console.log('spawned ' + (child.pid > 0)));
        child.on('message', (m) => { console.log('reply ' + JSON.stringify(m)); child.kill(); });
        child.on('exit', (code) => { console.log('exit ' + code); app.exit(0); });
        child.postMessage({ when: new Date(0) }); // before the child listens: Electron queues it
      });
    `);
    const app = launchTrayApp({ entry, env: home.env });
    try {
      expect(await app.exited).toBe(0);
      const out = app.output();
      expect(out).toContain('spawned true');
      expect(out).toContain('child: argv ["--flag","x"]');
      expect(out).toContain('reply {"got":{"when":"1970-01-01T00:00:00.000Z"},"isDate":true}');
      expect(out).toMatch(/exit \d+/);
    } finally {
      await app.kill();
      await home.remove();
    }
  }, 60_000);
});
