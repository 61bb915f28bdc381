// The tray's icon state, tooltip and menu as functions of RelayStatus.
import { describe, expect, it } from 'vitest';
import type { RelayStatus } from '../src/api/contract.js';
import { formatAge } from '../src/tray/age.js';
import { TOOLTIP_MAX, trayIconState, trayMenu, trayTooltip, trayView, type TrayContext, type TrayMenuItem } from '../src/tray/model.js';
import { status } from './support/relay-status.js';


const ctx: TrayContext = { stuckAfterMinutes: 15, startAtLogin: true, startError: null };

describe('tray model: icon state', () => {
  const cases: [string, Partial<RelayStatus>, ReturnType<typeof trayIconState>][] = [
    ['empty queue', {}, 'idle'],
    ['queued, not yet tried', { queued: 2, oldestQueuedSeconds: 5 }, 'idle'],
    ['delivering', { queued: 2, sending: 1, oldestQueuedSeconds: 5 }, 'sending'],
    ['a message deferred', { queued: 2, deferred: 1, sending: 1, oldestQueuedSeconds: 60 }, 'deferred'],
    ['a permanent failure kept', { failed: 1 }, 'deferred'],
    ['a message older than stuckAfterMinutes', { queued: 1, deferred: 1, oldestQueuedSeconds: 15 * 60 }, 'error'],
    ['just under the limit', { queued: 1, deferred: 1, oldestQueuedSeconds: 15 * 60 - 1 }, 'deferred'],
    ['authentication failed', { state: 'auth-failed', queued: 1 }, 'error'],
    ['not set up', { state: 'unconfigured' }, 'error'],
    ['paused', { state: 'paused', queued: 3, deferred: 3 }, 'paused'],
    ['stopped', { state: 'stopped' }, 'stopped'],
  ];
  for (const [name, over, expected] of cases) {
    it(`${name} -> ${expected}`, () => expect(trayIconState(status(over))).toBe(expected));
  }

  it('the icon key changes with the state and the label, not with counts hidden behind 99+', () => {
    expect(trayView(status({ queued: 3 }), ctx).iconKey).toBe('idle:3');
    expect(trayView(status({ queued: 150 }), ctx).iconKey).toBe(trayView(status({ queued: 151 }), ctx).iconKey);
    expect(trayView(status({ queued: 0 }), ctx).iconKey).toBe('idle:');
    // A stopped relay knows no counts: no number on the icon.
    expect(trayView(status({ state: 'stopped', queued: 4 }), ctx)).toMatchObject({ icon: 'stopped', queued: 0, iconKey: 'stopped:' });
  });
});

describe('tray model: tooltip', () => {
  it('matches the issue: queue, age of the oldest, last error', () => {
    const s = status({ state: 'auth-failed', queued: 3, deferred: 3, oldestQueuedSeconds: 12 * 60 + 30, lastError: '535 5.7.139 Authentication unsuccessful' });
    expect(trayTooltip(s, ctx)).toBe('SMTP Relay — Sign-in failed — 3 queued, oldest 12 min — last error: 535 5.7.139 Authentication unsuccessful');
  });

  it('says when all is well, without an old error', () => {
    expect(trayTooltip(status({ lastError: 'a@b.c: 451 4.3.0 try later' }), ctx)).toBe('SMTP Relay — queue empty');
    expect(trayTooltip(status({ queued: 1, sending: 1, oldestQueuedSeconds: 2, lastError: 'old' }), ctx)).toBe('SMTP Relay — 1 queued, oldest 2 s');
  });

  it('names paused, not set up, failed messages and why a stopped relay did not start', () => {
    expect(trayTooltip(status({ state: 'paused', queued: 2, oldestQueuedSeconds: 7200 }), ctx)).toBe('SMTP Relay — Paused — 2 queued, oldest 2 h');
    expect(trayTooltip(status({ state: 'unconfigured', lastError: 'no smarthost configured' }), ctx)).toBe('SMTP Relay — Not set up — queue empty — last error: no smarthost configured');
    expect(trayTooltip(status({ failed: 2 }), ctx)).toBe('SMTP Relay — queue empty, 2 failed');
    expect(trayTooltip(status({ queued: 2, oldestQueuedSeconds: 60, lastError: 'smtp.contoso.com: connect ECONNREFUSED' }, { unreachable: { since: Date.now() - 60_000, until: Date.now() + 60_000, reason: 'connect ECONNREFUSED', host: 'smtp.contoso.com' } }), ctx))
      .toBe('SMTP Relay — Smarthost unreachable — 2 queued, oldest 1 min — last error: smtp.contoso.com: connect ECONNREFUSED');
    expect(trayTooltip(status({ state: 'stopped' }), ctx)).toBe('SMTP Relay — stopped');
    expect(trayTooltip(status({ state: 'stopped' }), { ...ctx, startError: 'cannot listen on 127.0.0.1:25: the port is already in use' }))
      .toBe('SMTP Relay — not running: cannot listen on 127.0.0.1:25: the port is already in use');
  });

  it('is cut to the 127 characters Windows shows, with an ellipsis', () => {
    const long = trayTooltip(status({ queued: 1, deferred: 1, oldestQueuedSeconds: 60, lastError: `x@y.z: 451 ${'very long reply '.repeat(20)}` }), ctx);
    expect(long.length).toBe(TOOLTIP_MAX);
    expect(long.endsWith('…')).toBe(true);
    expect(long.startsWith('SMTP Relay — 1 queued, oldest 1 min — last error: x@y.z: 451 very long reply')).toBe(true);
  });

  it('ages read as a person would say them', () => {
    expect([0, 59, 60, 12 * 60 + 59, 3600, 3600 + 5 * 60, 86_400, 3 * 86_400 + 4 * 3600].map(formatAge))
      .toEqual(['0 s', '59 s', '1 min', '12 min', '1 h', '1 h 5 min', '1 d', '3 d 4 h']);
  });
});

describe('tray model: menu', () => {
  const labels = (items: TrayMenuItem[]) => items.map((i) => (i.kind === 'separator' ? '---' : i.label));
  const item = (items: TrayMenuItem[], label: string) => items.find((i) => i.kind !== 'separator' && i.label === label);

  it('has the issue\'s items in order, under a line saying how the queue is', () => {
    expect(labels(trayMenu(status({ queued: 3, oldestQueuedSeconds: 720 }), ctx))).toEqual([
      '3 queued, oldest 12 min', '---', 'Open settings', 'Show queue', 'Retry all now', 'Pause delivery', '---',
      'Start at login', 'Open log folder', '---', 'Quit',
    ]);
  });

  it('puts the health and its one fixing action first when something needs doing', () => {
    const auth = trayMenu(status({ state: 'auth-failed', queued: 1 }), ctx);
    expect(labels(auth).slice(0, 3)).toEqual(['Sign-in failed', 'Fix the sign-in', '1 queued']);
    expect(item(auth, 'Fix the sign-in')).toMatchObject({ action: 'open-settings' });
    const refused = trayMenu(status({ queued: 2 }, { unreachable: { since: Date.now(), until: Date.now() + 60_000, reason: 'refused', host: 'h' } }), ctx);
    expect(labels(refused).slice(0, 2)).toEqual(['Smarthost unreachable', 'Retry now']);
    expect(item(refused, 'Retry now')).toMatchObject({ action: 'retry-all' });
    expect(labels(trayMenu(status({ state: 'unconfigured' }), ctx))[1]).toBe('Set up the smarthost');
  });

  it('offers Resume when paused and Start relay when stopped', () => {
    expect(item(trayMenu(status({ state: 'paused' }), ctx), 'Resume delivery')).toMatchObject({ action: 'resume', enabled: true });
    expect(item(trayMenu(status({ state: 'paused' }), ctx), 'Pause delivery')).toBeUndefined();
    expect(labels(trayMenu(status({ state: 'paused' }), ctx))[0]).toBe('Paused');
    const stopped = trayMenu(status({ state: 'stopped' }), { ...ctx, startError: 'port in use' });
    expect(item(stopped, 'Start relay')).toMatchObject({ action: 'start-relay', enabled: true });
    expect(labels(stopped)[0]).toBe('Relay not running');
  });

  it('enables Retry all only when there is something to retry or an auth pause to lift', () => {
    expect(item(trayMenu(status(), ctx), 'Retry all now')).toMatchObject({ enabled: false });
    expect(item(trayMenu(status({ queued: 1 }), ctx), 'Retry all now')).toMatchObject({ enabled: true });
    expect(item(trayMenu(status({ state: 'auth-failed' }), ctx), 'Retry all now')).toMatchObject({ enabled: true });
    expect(item(trayMenu(status({ state: 'stopped', queued: 1 }), ctx), 'Retry all now')).toMatchObject({ enabled: false });
  });

  it('Start at login is a checkbox showing the setting, disabled where there are no login items', () => {
    expect(item(trayMenu(status(), { ...ctx, startAtLogin: true }), 'Start at login')).toMatchObject({ kind: 'checkbox', checked: true, enabled: true });
    expect(item(trayMenu(status(), { ...ctx, startAtLogin: false }), 'Start at login')).toMatchObject({ checked: false, enabled: true });
    expect(item(trayMenu(status(), { ...ctx, startAtLogin: null }), 'Start at login')).toMatchObject({ checked: false, enabled: false });
  });
});
