// The tray's behaviour, without Electron: it reads the relay's status, decides what to show and
// which notifications to raise, and carries out menu actions. electron/tray.ts implements TrayPort
// with Tray, nativeImage, Menu and Notification; the tests implement it with arrays.
import type { RelayApi, RelayStatus } from '../api/contract.js';
import { defaultConfig } from '../config/schema.js';
import type { WindowView } from '../desktop/app-protocol.js';
import { stoppedStatus } from '../health/model.js';
import { renderTrayIconSet, type TrayIconImages } from './badge.js';
import { trayView, type TrayAction, type TrayMenuItem } from './model.js';
import { INITIAL_ALERT_STATE, nextAlerts, type AlertState, type Notice } from './notifications.js';

export type { TrayIconImages };

/** What the controller drives; each call is made only when what it shows changes. */
export interface TrayPort {
  setIcon(images: TrayIconImages): void;
  setTooltip(text: string): void;
  setMenu(items: TrayMenuItem[]): void;
  notify(notice: Notice): void;
}

export interface TrayControllerDeps {
  relay: Pick<RelayApi, 'getStatus' | 'getConfig' | 'retryAll' | 'pause' | 'resume'>;
  port: TrayPort;
  /** Starts the relay (RelayService.start); rejects with a message a person can act on. */
  startRelay(): Promise<unknown>;
  /** null where the platform has no login items. */
  startAtLogin: { get(): boolean | null; set(on: boolean): void };
  openWindow(view: WindowView): void;
  openLogFolder(): Promise<void>;
  quit(): void;
}

const ACTION_VERBS: Record<TrayAction, string> = {
  'open-settings': 'open the settings', 'show-queue': 'show the queue', 'retry-all': 'retry the queue',
  pause: 'pause delivery', resume: 'resume delivery', 'start-relay': 'start the relay',
  'toggle-start-at-login': 'change "Start at login"', 'open-log-folder': 'open the log folder', quit: 'quit',
};

export class TrayController {
  private startError: string | null = null;
  private alerts: AlertState = INITIAL_ALERT_STATE;
  private shown: { iconKey?: string; tooltip?: string; menu?: string } = {};
  private readonly icons = new Map<string, TrayIconImages>();
  /** Refreshes run one after another, so a slow getStatus cannot overwrite a newer one. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly deps: TrayControllerDeps) {}

  /** Starts the relay; a failure is shown (tooltip, notification), not thrown: the tray stays up. */
  async startRelay(): Promise<boolean> {
    try {
      await this.deps.startRelay();
      this.startError = null;
    } catch (e) {
      this.startError = (e as Error).message;
      this.deps.port.notify({ kind: 'error', title: 'SMTP Relay could not start', body: this.startError });
    }
    await this.refresh();
    return this.startError === null;
  }

  /** Redraws from `pushed` (a status event) or a fresh getStatus. */
  refresh(pushed?: RelayStatus): Promise<void> {
    this.chain = this.chain.then(() => this.update(pushed), () => this.update(pushed));
    return this.chain;
  }

  async run(action: TrayAction): Promise<void> {
    try {
      await this.perform(action);
    } catch (e) {
      this.deps.port.notify({ kind: 'error', title: `Could not ${ACTION_VERBS[action]}`, body: (e as Error).message });
    }
    if (action !== 'quit') await this.refresh();
  }

  private async perform(action: TrayAction): Promise<void> {
    const d = this.deps;
    switch (action) {
      case 'open-settings': return d.openWindow('settings');
      case 'show-queue': return d.openWindow('queue');
      case 'retry-all': await d.relay.retryAll(); return;
      case 'pause': return d.relay.pause();
      case 'resume': return d.relay.resume();
      case 'start-relay': await this.startRelay(); return;
      case 'toggle-start-at-login': {
        const on = d.startAtLogin.get();
        if (on !== null) d.startAtLogin.set(!on);
        return;
      }
      case 'open-log-folder': return d.openLogFolder();
      case 'quit': return d.quit();
    }
  }

  private async update(pushed?: RelayStatus): Promise<void> {
    const status = pushed ?? (await this.deps.relay.getStatus().catch(() => stoppedStatus()));
    const stuckAfterMinutes = await this.stuckAfterMinutes();
    const view = trayView(status, { stuckAfterMinutes, startAtLogin: this.deps.startAtLogin.get(), startError: this.startError });
    const { port } = this.deps;
    if (view.iconKey !== this.shown.iconKey) {
      let images = this.icons.get(view.iconKey);
      if (!images) this.icons.set(view.iconKey, (images = renderTrayIconSet(view.icon, view.queued)));
      port.setIcon(images);
      this.shown.iconKey = view.iconKey;
    }
    if (view.tooltip !== this.shown.tooltip) {
      port.setTooltip(view.tooltip);
      this.shown.tooltip = view.tooltip;
    }
    const menuKey = JSON.stringify(view.menu);
    if (menuKey !== this.shown.menu) {
      port.setMenu(view.menu);
      this.shown.menu = menuKey;
    }
    const next = nextAlerts(this.alerts, status, stuckAfterMinutes);
    this.alerts = next.state;
    next.notices.forEach((n) => port.notify(n));
  }

  private async stuckAfterMinutes(): Promise<number> {
    // getConfig has nothing to give before config.json was read (e.g. it failed validation).
    const config = await this.deps.relay.getConfig().catch(() => undefined);
    return config?.alerts.stuckAfterMinutes ?? defaultConfig().alerts.stuckAfterMinutes;
  }
}
