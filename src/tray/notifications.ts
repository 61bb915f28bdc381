// When the tray raises a Windows notification: a message stuck longer than alerts.stuckAfterMinutes,
// an authentication failure, the spool's disk running low, and the queue draining again after one of
// those. The texts are the health model's (src/health/model.ts): the cause, then the fixing action. A state machine over
// successive statuses, so each condition notifies once and again only after it has cleared.
import type { RelayStatus } from '../api/contract.js';
import { formatAge } from './age.js';
import { isStuck } from './model.js';

export interface Notice {
  kind: 'stuck' | 'auth-failed' | 'disk-low' | 'drained' | 'error';
  title: string;
  body: string;
}

export interface AlertState {
  /** A stuck-mail notice has been shown and the condition has not cleared since. */
  stuck: boolean;
  authFailed: boolean;
  diskLow: boolean;
  /** Something was alerted since the queue was last empty, so its draining is news. */
  awaitingDrain: boolean;
}

export const INITIAL_ALERT_STATE: AlertState = { stuck: false, authFailed: false, diskLow: false, awaitingDrain: false };

export function nextAlerts(prev: AlertState, status: RelayStatus, stuckAfterMinutes: number): { state: AlertState; notices: Notice[] } {
  // A stopped relay knows nothing about the queue: neither raise nor clear anything.
  if (status.state === 'stopped') return { state: prev, notices: [] };
  const notices: Notice[] = [];
  const stuck = isStuck(status, stuckAfterMinutes);
  const authFailed = status.state === 'auth-failed';
  const diskLow = status.health.state === 'disk-low';
  const h = status.health;
  if (stuck && !prev.stuck) {
    const waiting = status.queued === 1 ? '1 message is' : `${status.queued} messages are`;
    // While the smarthost refuses connections, that is the reason mail is stuck: say so.
    const why = h.state === 'smarthost-unreachable' ? ` ${h.cause}` : status.lastError ? ` Last error: ${status.lastError}` : '';
    notices.push({
      kind: 'stuck',
      title: 'Mail is stuck in the relay',
      body: `${waiting} waiting, the oldest for ${formatAge(status.oldestQueuedSeconds ?? 0)}.${why}`,
    });
  }
  if (authFailed && !prev.authFailed) {
    notices.push({
      kind: 'auth-failed',
      title: 'The smarthost refused the sign-in',
      body: `${status.lastError ?? 'Authentication failed.'} Delivery is stopped until the sign-in is fixed: ${h.action?.label ?? 'Fix the sign-in'} in the settings.`,
    });
  }
  if (diskLow && !prev.diskLow) notices.push({ kind: 'disk-low', title: 'The relay\'s disk is almost full', body: h.cause });
  let awaitingDrain = prev.awaitingDrain || notices.length > 0;
  if (awaitingDrain && status.queued === 0 && !authFailed) {
    notices.push({ kind: 'drained', title: 'Mail is moving again', body: 'The queue is empty: nothing is waiting for delivery.' });
    awaitingDrain = false;
  }
  return { state: { stuck, authFailed, diskLow, awaitingDrain }, notices };
}
