// What the tray shows, as pure functions of the relay's status and its health (src/health/model.ts):
// the icon state, the tooltip and the context menu with the one fixing action on top.
// electron/tray.ts only turns these into a Tray, a NativeImage and a Menu.
import { formatAge } from './age.js';
import type { HealthAction, RelayStatus } from '../api/contract.js';
import { countLabel, type TrayIconState } from './badge.js';

/** Facts the tray needs besides RelayStatus. */
export interface TrayContext {
  /** alerts.stuckAfterMinutes from config.json. */
  stuckAfterMinutes: number;
  /** null where the platform has no login items (Linux). */
  startAtLogin: boolean | null;
  /** Why the relay is not running, when starting it failed (port in use, bad config.json, spool locked). */
  startError: string | null;
}

/** Windows keeps at most 127 characters of a tray tooltip (NOTIFYICONDATA.szTip, 128 with the NUL). */
export const TOOLTIP_MAX = 127;

/** A message has waited longer than alerts.stuckAfterMinutes (the relay must be running to know). */
export function isStuck(status: RelayStatus, stuckAfterMinutes: number): boolean {
  return status.state !== 'stopped' && status.queued > 0 && status.oldestQueuedSeconds !== null &&
    status.oldestQueuedSeconds >= stuckAfterMinutes * 60;
}

/**
 * From the health model: red for "mail is not moving" (not set up, sign-in failed, smarthost unreachable,
 * mail stuck, disk low), amber for "mail needed another try or bounced", blue while sending, green when
 * all is well, paused and grey (stopped) as such.
 */
export function trayIconState(status: RelayStatus): TrayIconState {
  const h = status.health;
  if (h.state === 'stopped' || status.state === 'stopped') return 'stopped';
  if (h.state === 'paused') return 'paused';
  if (h.severity === 'error') return 'error';
  if (h.severity === 'warning') return 'deferred';
  return h.state === 'sending' ? 'sending' : 'idle';
}

/** e.g. "SMTP Relay — Sign-in failed — 3 queued, oldest 12 min — last error: 535 5.7.139 Authentication unsuccessful". */
export function trayTooltip(status: RelayStatus, ctx: TrayContext): string {
  const parts = ['SMTP Relay'];
  if (status.state === 'stopped') {
    parts.push(ctx.startError ? `not running: ${ctx.startError}` : 'stopped');
    return truncate(parts.join(' — '), TOOLTIP_MAX);
  }
  const h = status.health;
  if (h.state !== 'running' && h.state !== 'sending') parts.push(h.title);
  parts.push(queueSummary(status));
  if (h.severity !== 'ok' && status.lastError) parts.push(`last error: ${status.lastError}`);
  return truncate(parts.join(' — '), TOOLTIP_MAX);
}

/** The tray's own item for each fixing action of the health model. */
const ACTION_ITEMS: Record<HealthAction, TrayAction> = {
  start: 'start-relay', 'set-up': 'open-settings', 'sign-in': 'open-settings', retry: 'retry-all', resume: 'resume',
  'show-queue': 'show-queue', 'free-disk': 'show-queue',
};

/** "3 queued, oldest 12 min, 1 failed" or "queue empty". */
export function queueSummary(status: RelayStatus): string {
  const parts: string[] = [];
  if (status.queued > 0) {
    parts.push(`${status.queued} queued`);
    if (status.oldestQueuedSeconds !== null) parts.push(`oldest ${formatAge(status.oldestQueuedSeconds)}`);
  } else {
    parts.push('queue empty');
  }
  if (status.failed > 0) parts.push(`${status.failed} failed`);
  return parts.join(', ');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

export type TrayAction =
  | 'open-settings' | 'show-queue' | 'retry-all' | 'pause' | 'resume' | 'start-relay'
  | 'toggle-start-at-login' | 'open-log-folder' | 'quit';

export type TrayMenuItem =
  | { kind: 'info'; label: string }
  | { kind: 'separator' }
  | { kind: 'action'; action: TrayAction; label: string; enabled: boolean }
  | { kind: 'checkbox'; action: TrayAction; label: string; checked: boolean; enabled: boolean };

export function trayMenu(status: RelayStatus, ctx: TrayContext): TrayMenuItem[] {
  const stopped = status.state === 'stopped';
  const deliveryItem: TrayMenuItem = stopped
    ? { kind: 'action', action: 'start-relay', label: 'Start relay', enabled: true }
    : status.state === 'paused'
      ? { kind: 'action', action: 'resume', label: 'Resume delivery', enabled: true }
      : { kind: 'action', action: 'pause', label: 'Pause delivery', enabled: true };
  const h = status.health;
  // The health line and its fixing action first: "Sign-in failed" -> "Fix the sign-in".
  const health: TrayMenuItem[] = stopped || !h.action || h.state === 'running' ? [] : [
    { kind: 'info', label: h.title },
    { kind: 'action', action: ACTION_ITEMS[h.action.id], label: h.action.label, enabled: true },
  ];
  return [
    ...health,
    { kind: 'info', label: stopped ? (ctx.startError ? 'Relay not running' : 'Relay stopped') : capitalise(queueSummary(status)) },
    { kind: 'separator' },
    { kind: 'action', action: 'open-settings', label: 'Open settings', enabled: true },
    { kind: 'action', action: 'show-queue', label: 'Show queue', enabled: true },
    // retryAll also lifts the pause after an authentication failure, so it is useful with an empty queue then.
    { kind: 'action', action: 'retry-all', label: 'Retry all now', enabled: !stopped && (status.queued > 0 || status.state === 'auth-failed') },
    deliveryItem,
    { kind: 'separator' },
    { kind: 'checkbox', action: 'toggle-start-at-login', label: 'Start at login', checked: ctx.startAtLogin === true, enabled: ctx.startAtLogin !== null },
    { kind: 'action', action: 'open-log-folder', label: 'Open log folder', enabled: true },
    { kind: 'separator' },
    { kind: 'action', action: 'quit', label: 'Quit', enabled: true },
  ];
}

/** The tray as a whole; the icon is named by a key so the adapter redraws only when it changes. */
export interface TrayView {
  icon: TrayIconState;
  queued: number;
  /** Changes exactly when the image changes ("error:99+"). */
  iconKey: string;
  tooltip: string;
  menu: TrayMenuItem[];
}

export function trayView(status: RelayStatus, ctx: TrayContext): TrayView {
  const icon = trayIconState(status);
  // A stopped relay's counts are unknown (all zero), so it shows no number.
  const queued = status.state === 'stopped' ? 0 : status.queued;
  return {
    icon, queued, iconKey: `${icon}:${countLabel(queued) ?? ''}`,
    tooltip: trayTooltip(status, ctx), menu: trayMenu(status, ctx),
  };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
