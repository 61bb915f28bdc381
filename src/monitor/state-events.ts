// Turns the relay's status events and delivery-log lines into the few state changes an admin must
// hear about (event-log.ts writes them). Each problem is raised once when it starts and answered by
// one "recovered" event when it ends, so a flapping smarthost does not flood the Event Log.
import type { RelayStatus } from '../api/contract.js';
import type { Config } from '../config/schema.js';
import { formatAge } from '../tray/age.js';
import { relayEvent, type EventName, type EventSink } from './event-log.js';

export interface WatchedRelay {
  getStatus(): Promise<RelayStatus>;
  getConfig(): Promise<Config>;
  onStatus(listener: (status: RelayStatus) => void): () => void;
  /** Delivery-log lines: when the smarthost became unreachable, and the disk running low. */
  onLogLine(listener: (line: string) => void): () => void;
}

export interface WatchOptions {
  /** How long mail may wait, or the smarthost stay unreachable, before it is an event; default alerts.stuckAfterMinutes. */
  alertAfterMs?: number;
  /** How often time-based conditions are looked at again without a status event (ms). */
  tickMs?: number;
  now?: () => number;
}

export interface StateWatch {
  /** A config change was refused (the last good config stays): the caller that refused it says so here. */
  configRefused(reason: string): void;
  /** Stops watching; a relay still running is reported stopped (call it before stopping the relay). */
  close(): void;
}

type Problem = Exclude<EventName, 'started' | 'stopped' | 'recovered' | 'config-refused'>;

const UNREACHABLE = / relay=(\S+) unreachable \((.*)\); next try/;
const SENT = / status=sent \(/;
const DISK_LOW = / the spool's disk \(.*\) has only /;
const DISK_OK = / the spool's disk has room again/;

export function watchStateChanges(api: WatchedRelay, sink: EventSink, opts: WatchOptions = {}): StateWatch {
  const now = opts.now ?? Date.now;
  const active = new Map<Problem, string>();
  let running = false;
  let unreachable: { since: number; relay: string; reason: string } | null = null;
  let alertAfterMs = opts.alertAfterMs ?? 15 * 60_000;

  const raise = (p: Problem, message: string) => {
    if (active.has(p)) return;
    active.set(p, message);
    sink.write(relayEvent(p, message));
  };
  const clear = (p: Problem, message: string) => {
    if (!active.delete(p)) return;
    sink.write(relayEvent('recovered', message));
  };

  let refusedConfig: string | null = null;
  const configRefused = (reason: string) => sink.write(relayEvent('config-refused', `configuration change refused, the last good configuration stays in use: ${reason}`));

  const evaluate = (s: RelayStatus) => {
    // A hand edit of config.json that does not validate: once per distinct reason.
    if (s.configError && s.configError !== refusedConfig) configRefused(s.configError);
    refusedConfig = s.configError;
    if (s.state === 'stopped') {
      if (running) sink.write(relayEvent('stopped', `stopped with ${s.queued} message${s.queued === 1 ? '' : 's'} waiting`));
      running = false;
      active.clear();
      unreachable = null;
      return;
    }
    if (!running) {
      running = true;
      sink.write(relayEvent('started', `started${s.listening ? `, listening on ${s.listening}` : ''}; ${s.queued} waiting, ${s.failed} failed`));
    }
    if (s.state === 'auth-failed') raise('sign-in-failed', `sign-in failed, delivery is paused until the credentials are fixed: ${s.lastError ?? 'no reason given'}`);
    else clear('sign-in-failed', 'sign-in works again');
    const waited = (s.oldestQueuedSeconds ?? 0) * 1000;
    if (s.oldestQueuedSeconds !== null && waited >= alertAfterMs) {
      raise('mail-stuck', `mail stuck: the oldest of ${s.queued} waiting messages has waited ${formatAge(s.oldestQueuedSeconds)}${s.lastError ? `; last error: ${s.lastError}` : ''}`);
    } else {
      clear('mail-stuck', 'mail is moving again: nothing has waited longer than the alert time');
    }
    if (unreachable && now() - unreachable.since >= alertAfterMs) {
      raise('smarthost-unreachable', `smarthost ${unreachable.relay} unreachable since ${new Date(unreachable.since).toISOString()}: ${unreachable.reason}`);
    }
  };

  // alerts.stuckAfterMinutes is read again each time, so a changed setting applies without a restart.
  const refresh = () => void api.getConfig()
    .then((c) => { if (opts.alertAfterMs === undefined) alertAfterMs = c.alerts.stuckAfterMinutes * 60_000; })
    .then(() => api.getStatus()).then(evaluate, () => {});
  const unsubscribe = [api.onStatus(evaluate), api.onLogLine((line) => {
    const u = UNREACHABLE.exec(line);
    if (u) unreachable ??= { since: now(), relay: u[1] as string, reason: u[2] as string };
    else if (SENT.test(line) && unreachable) {
      clear('smarthost-unreachable', `smarthost ${unreachable.relay} reachable again`);
      unreachable = null;
    }
    if (DISK_LOW.test(line)) raise('disk-low', `disk low: ${line.slice(line.indexOf(' the spool') + 1)}`);
    else if (DISK_OK.test(line)) clear('disk-low', 'the spool\'s disk has room again');
  })];
  refresh();
  const timer = setInterval(refresh, opts.tickMs ?? 15_000);
  timer.unref();

  return {
    configRefused,
    close() {
      clearInterval(timer);
      unsubscribe.forEach((u) => u());
      if (running) sink.write(relayEvent('stopped', 'stopped'));
      running = false;
    },
  };
}
