// The one health model: what the relay's facts mean for mail, in words, with when it will try again
// and the one thing that fixes it. The tray (icon, tooltip, menu, notifications), the window's header
// and `status` all show this, so they never disagree.
import type { Health, HealthState, RelayStatus } from '../api/contract.js';
import { formatAge } from '../tray/age.js';

/** The relay's facts the model reads (RelayStatus plus what only the relay knows). */
export interface HealthFacts {
  state: 'running' | 'paused' | 'auth-failed' | 'unconfigured' | 'stopped';
  queued: number;
  deferred: number;
  failed: number;
  sending: number;
  oldestQueuedSeconds: number | null;
  lastError: string | null;
  /** The smarthost (or the MX of a domain) refused or dropped connections and has not taken one since: since when, why, the backoff's end. */
  unreachable: { since: number; until: number; reason: string; host: string } | null;
  /** The spool's disk is too full to take new mail (452 4.3.1). */
  diskLow: { freeBytes: number } | null;
  /** When the queue manager looks at the queue again (the earliest due message), if it knows. */
  nextDue: number | null;
  /** alerts.stuckAfterMinutes. */
  stuckAfterMinutes: number;
  /** Why a stopped relay is not running (port in use, bad config.json), when known. */
  startError?: string | null;
}

export const HEALTH_TITLES: Record<HealthState, string> = {
  'not-set-up': 'Not set up',
  running: 'Running',
  sending: 'Sending',
  'smarthost-unreachable': 'Smarthost unreachable',
  'sign-in-failed': 'Sign-in failed',
  'mail-stuck': 'Mail stuck',
  'disk-low': 'Disk low',
  paused: 'Paused',
  stopped: 'Stopped',
};

/** "1 message", "2 messages". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function make(state: HealthState, severity: Health['severity'], cause: string, nextTry: number | null, action: Health['action']): Health {
  return { state, title: HEALTH_TITLES[state], cause, nextTry, action, severity };
}

/** Worst first: a relay that cannot run hides nothing else; a stop the user must lift comes before a wait. */
export function healthOf(f: HealthFacts, now = Date.now()): Health {
  const waiting = f.queued > 0 ? `${plural(f.queued, 'message')} waiting` : 'nothing is waiting';
  if (f.state === 'stopped') {
    return make('stopped', 'stopped', f.startError ? `The relay is not running: ${f.startError}` : 'The relay is not running: no mail is accepted or delivered.', null, { id: 'start', label: 'Start the relay' });
  }
  if (f.state === 'unconfigured') {
    return make('not-set-up', 'error', `${f.lastError ? capitalise(f.lastError) : 'No smarthost is configured'}; ${waiting}. Mail is accepted and kept until the relay is set up.`, null, { id: 'set-up', label: 'Set up the smarthost' });
  }
  if (f.state === 'auth-failed') {
    return make('sign-in-failed', 'error', `${f.lastError ? capitalise(f.lastError) : 'The smarthost refused the sign-in'}. Delivery is stopped until the sign-in is fixed; ${waiting}.`, null, { id: 'sign-in', label: 'Fix the sign-in' });
  }
  if (f.state === 'paused') {
    return make('paused', 'warning', `Delivery was paused by the user; ${waiting}. Mail is still accepted.`, null, { id: 'resume', label: 'Resume delivery' });
  }
  if (f.diskLow) {
    return make('disk-low', 'error', `The spool's disk has only ${Math.floor(f.diskLow.freeBytes / 1e6)} MB free: new mail is refused (452 4.3.1) until space is freed; queued mail is still delivered.`, f.nextDue, { id: 'free-disk', label: 'Free disk space' });
  }
  if (f.unreachable) {
    // Until a connection succeeds again; between two backoffs it is being tried right now.
    const u = f.unreachable;
    const next = u.until > now ? u.until : null;
    return make('smarthost-unreachable', 'error', `${u.host} has not taken a connection for ${formatAge((now - u.since) / 1000)}: ${u.reason}; ${waiting}${next ? '' : ', trying again now'}.`, next, { id: 'retry', label: 'Retry now' });
  }
  if (f.queued > 0 && f.oldestQueuedSeconds !== null && f.oldestQueuedSeconds >= f.stuckAfterMinutes * 60) {
    const why = f.lastError ? ` Last error: ${f.lastError}` : '';
    return make('mail-stuck', 'error', `${capitalise(waiting)}, the oldest for ${formatAge(f.oldestQueuedSeconds)} (alert after ${f.stuckAfterMinutes} min).${why}`, f.nextDue, { id: 'show-queue', label: 'Show the queue' });
  }
  if (f.sending > 0) return make('sending', f.deferred || f.failed ? 'warning' : 'ok', `Delivering ${plural(f.sending, 'message')} now; ${waiting}.`, null, null);
  const deferred = f.deferred > 0 ? ` ${plural(f.deferred, 'message')} will be tried again${f.lastError ? ` (last error: ${f.lastError})` : ''}.` : '';
  const failed = f.failed > 0 ? ` ${plural(f.failed, 'message')} failed for good and ${f.failed === 1 ? 'is' : 'are'} kept in the queue.` : '';
  return make('running', deferred || failed ? 'warning' : 'ok', `Accepting and delivering mail; ${waiting}.${deferred}${failed}`, f.queued > 0 ? f.nextDue : null, failed ? { id: 'show-queue', label: 'Show the queue' } : null);
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The status of a relay that is not running (counts unknown). */
export function stoppedStatus(): RelayStatus {
  return {
    state: 'stopped', queued: 0, deferred: 0, failed: 0, corrupt: 0, sending: 0, oldestQueuedSeconds: null,
    lastError: null, advice: null, lastDelivery: null, listening: null, configError: null, configRevision: '', stalled: null,
    health: healthOf({
      state: 'stopped', queued: 0, deferred: 0, failed: 0, sending: 0, oldestQueuedSeconds: null, lastError: null,
      unreachable: null, diskLow: null, nextDue: null, stuckAfterMinutes: 0,
    }),
  };
}
