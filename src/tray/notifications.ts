// When the tray raises a Windows notification: a message stuck longer than alerts.stuckAfterMinutes,
// an authentication failure, and the queue draining again after one of those. A state machine over
// successive statuses, so each condition notifies once and again only after it has cleared.
import type { RelayStatus } from '../api/contract.js';
import { formatAge } from './age.js';
import { isStuck } from './model.js';

export interface Notice {
  kind: 'stuck' | 'auth-failed' | 'drained' | 'error';
  title: string;
  body: string;
}

export interface AlertState {
  /** A stuck-mail notice has been shown and the condition has not cleared since. */
  stuck: boolean;
  authFailed: boolean;
  /** Something was alerted since the queue was last empty, so its draining is news. */
  awaitingDrain: boolean;
}

export const INITIAL_ALERT_STATE: AlertState = { stuck: false, authFailed: false, awaitingDrain: false };

export function nextAlerts(prev: AlertState, status: RelayStatus, stuckAfterMinutes: number): { state: AlertState; notices: Notice[] } {
  // A stopped relay knows nothing about the queue: neither raise nor clear anything.
  if (status.state === 'stopped') return { state: prev, notices: [] };
  const notices: Notice[] = [];
  const stuck = isStuck(status, stuckAfterMinutes);
  const authFailed = status.state === 'auth-failed';
  if (stuck && !prev.stuck) {
    const waiting = status.queued === 1 ? '1 message is' : `${status.queued} messages are`;
    notices.push({
      kind: 'stuck',
      title: 'Mail is stuck in the relay',
      body: `${waiting} waiting, the oldest for ${formatAge(status.oldestQueuedSeconds ?? 0)}.` +
        (status.lastError ? ` Last error: ${status.lastError}` : ''),
    });
  }
  if (authFailed && !prev.authFailed) {
    notices.push({
      kind: 'auth-failed',
      title: 'The smarthost refused the login',
      // The status's advice knows the sign-in method: a password, a client secret, a certificate…
      body: `${status.lastError ?? 'Authentication failed.'} Delivery is paused. ${status.advice?.fix ?? 'Check the smarthost sign-in in the settings.'}`,
    });
  }
  let awaitingDrain = prev.awaitingDrain || notices.length > 0;
  if (awaitingDrain && status.queued === 0 && !authFailed) {
    notices.push({ kind: 'drained', title: 'Mail is moving again', body: 'The queue is empty: nothing is waiting for delivery.' });
    awaitingDrain = false;
  }
  return { state: { stuck, authFailed, awaitingDrain }, notices };
}
