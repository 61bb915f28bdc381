// The tray's behaviour with a recording TrayPort in place of Electron: what is redrawn when, what is
// notified, what the menu actions do, and how a relay that cannot start is shown.
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import type { RelayStatus } from '../src/api/contract.js';
import { defaultConfig, type Config } from '../src/config/schema.js';
import { TrayController, type TrayControllerDeps, type TrayIconImages } from '../src/tray/controller.js';
import type { TrayMenuItem } from '../src/tray/model.js';
import type { Notice } from '../src/tray/notifications.js';
import { status } from './support/relay-status.js';

function setup(initial: Partial<RelayStatus> = {}, opts: { startFails?: string; loginItems?: boolean } = {}) {
  let current = status(initial);
  let config: Config | undefined = defaultConfig();
  let startAtLogin = false;
  const calls: string[] = [];
  const shown = { icons: [] as TrayIconImages[], tooltips: [] as string[], menus: [] as TrayMenuItem[][], notices: [] as Notice[] };
  let startFails = opts.startFails;
  const deps: TrayControllerDeps = {
    relay: {
      getStatus: async () => current,
      getConfig: async () => config as Config,
      retryAll: async () => { calls.push('retryAll'); return current.queued; },
      pause: async () => {
        if (current.state === 'stopped') throw new Error('the relay is not running');
        calls.push('pause');
      },
      resume: async () => { calls.push('resume'); },
    },
    port: {
      setIcon: (images) => shown.icons.push(images),
      setTooltip: (text) => shown.tooltips.push(text),
      setMenu: (items) => shown.menus.push(items),
      notify: (notice) => shown.notices.push(notice),
    },
    startRelay: async () => {
      calls.push('start');
      if (startFails) throw new Error(startFails);
      current = status({ ...initial, state: 'running' });
    },
    startAtLogin: {
      get: () => (opts.loginItems === false ? null : startAtLogin),
      set: (on) => { calls.push(`startAtLogin=${on}`); startAtLogin = on; },
    },
    openWindow: (view) => { calls.push(`open:${view}`); },
    openLogFolder: async () => { calls.push('logs'); },
    quit: () => { calls.push('quit'); },
  };
  const tray = new TrayController(deps);
  return {
    tray, deps, calls, shown,
    set: (over: Partial<RelayStatus>) => { current = status(over); },
    setConfig: (c: Config | undefined) => { config = c; },
    allowStart: () => { startFails = undefined; },
    lastMenu: () => shown.menus.at(-1) ?? [],
  };
}

const labelOf = (items: TrayMenuItem[]) => items.map((i) => (i.kind === 'separator' ? '---' : i.label));

describe('tray controller', () => {
  it('draws icon, tooltip and menu once, then only what changed', async () => {
    const t = setup({ queued: 3, oldestQueuedSeconds: 60 });
    await t.tray.refresh();
    expect([t.shown.icons.length, t.shown.tooltips.length, t.shown.menus.length]).toEqual([1, 1, 1]);
    expect(t.shown.icons[0]?.representations.map((i) => PNG.sync.read(i.png).width)).toEqual([16, 20, 24, 28, 32, 36, 40, 48]);
    expect(t.shown.icons[0]?.ico.readUInt16LE(4), 'the same sizes as one .ico').toBe(8);
    await t.tray.refresh();
    expect([t.shown.icons.length, t.shown.tooltips.length, t.shown.menus.length]).toEqual([1, 1, 1]);

    t.set({ queued: 4, oldestQueuedSeconds: 60 });
    await t.tray.refresh();
    expect(t.shown.icons.length).toBe(2);
    expect(t.shown.tooltips.at(-1)).toBe('SMTP Relay — 4 queued, oldest 1 min');

    // Above 99 the image stays "99+": not redrawn, but the tooltip has the real number.
    t.set({ queued: 150, oldestQueuedSeconds: 60 });
    await t.tray.refresh();
    t.set({ queued: 151, oldestQueuedSeconds: 60 });
    await t.tray.refresh();
    expect(t.shown.icons.length).toBe(3);
    expect(t.shown.tooltips.at(-1)).toBe('SMTP Relay — 151 queued, oldest 1 min');
  });

  it('a pushed status is drawn as given, and refreshes never overtake each other', async () => {
    const t = setup();
    let release!: () => void;
    const slow = new Promise<void>((r) => { release = r; });
    const realGetStatus = t.deps.relay.getStatus;
    t.deps.relay.getStatus = async () => { const s = await realGetStatus(); await slow; return s; };
    const first = t.tray.refresh(); // reads "queue empty", slowly
    const second = t.tray.refresh(status({ queued: 7, oldestQueuedSeconds: 1 })); // a newer event
    release();
    await Promise.all([first, second]);
    expect(t.shown.tooltips).toEqual(['SMTP Relay — queue empty', 'SMTP Relay — 7 queued, oldest 1 s']);
  });

  it('a relay that cannot start keeps the tray up: grey icon, the reason, a notification, "Start relay"', async () => {
    const t = setup({ state: 'stopped' }, { startFails: 'cannot listen on 127.0.0.1:25: the port is already in use' });
    expect(await t.tray.startRelay()).toBe(false);
    expect(t.shown.notices).toEqual([{ kind: 'error', title: 'SMTP Relay could not start', body: 'cannot listen on 127.0.0.1:25: the port is already in use' }]);
    expect(t.shown.tooltips.at(-1)).toBe('SMTP Relay — not running: cannot listen on 127.0.0.1:25: the port is already in use');
    expect(labelOf(t.lastMenu())).toContain('Start relay');

    t.allowStart();
    await t.tray.run('start-relay');
    expect(t.calls.filter((c) => c === 'start')).toHaveLength(2);
    expect(t.shown.tooltips.at(-1)).toBe('SMTP Relay — queue empty');
    expect(labelOf(t.lastMenu())).toContain('Pause delivery');
  });

  it('a relay the controller cannot read is shown as stopped', async () => {
    const t = setup();
    t.deps.relay.getStatus = async () => { throw new Error('the relay is not open'); };
    await t.tray.refresh();
    expect(t.shown.tooltips).toEqual(['SMTP Relay — stopped']);
  });

  it('menu actions reach the relay, the window, the login item and the app', async () => {
    const t = setup({ queued: 2 });
    for (const a of ['retry-all', 'pause', 'resume', 'open-settings', 'show-queue', 'open-log-folder', 'toggle-start-at-login', 'quit'] as const) {
      await t.tray.run(a);
    }
    expect(t.calls).toEqual(['retryAll', 'pause', 'resume', 'open:settings', 'open:queue', 'logs', 'startAtLogin=true', 'quit']);
    const checkbox = t.lastMenu().find((i) => i.kind === 'checkbox');
    expect(checkbox).toMatchObject({ label: 'Start at login', checked: true });
    await t.tray.run('toggle-start-at-login');
    expect(t.calls.at(-1)).toBe('startAtLogin=false');
  });

  it('does nothing for "Start at login" where the platform has no login items', async () => {
    const t = setup({}, { loginItems: false });
    await t.tray.run('toggle-start-at-login');
    expect(t.calls).toEqual([]);
  });

  it('a failing action is reported, not thrown', async () => {
    const t = setup({ state: 'stopped' });
    await expect(t.tray.run('pause')).resolves.toBeUndefined();
    expect(t.shown.notices).toEqual([{ kind: 'error', title: 'Could not pause delivery', body: 'the relay is not running' }]);
  });

  it('raises each alert once across refreshes, with alerts.stuckAfterMinutes from the config', async () => {
    const t = setup();
    t.setConfig({ ...defaultConfig(), alerts: { stuckAfterMinutes: 5 } });
    t.set({ queued: 1, deferred: 1, oldestQueuedSeconds: 5 * 60, lastError: 'x@y.z: 421 4.7.0 try later' });
    await t.tray.refresh();
    await t.tray.refresh();
    t.set({ queued: 0 });
    await t.tray.refresh();
    expect(t.shown.notices.map((n) => n.kind)).toEqual(['stuck', 'drained']);
  });

  it('falls back to the default stuck limit when the config could not be read', async () => {
    const t = setup();
    t.setConfig(undefined);
    t.set({ queued: 1, oldestQueuedSeconds: 14 * 60 });
    await t.tray.refresh();
    t.set({ queued: 1, oldestQueuedSeconds: 15 * 60 });
    await t.tray.refresh();
    expect(t.shown.notices.map((n) => n.kind)).toEqual(['stuck']);
  });
});
