// Notification de-duplication: each condition notifies once, and again only after it has cleared.
import { describe, expect, it } from 'vitest';
import type { RelayStatus } from '../src/api/contract.js';
import { oauthAdviceFor } from '../src/advice/catalogue.js';
import { INITIAL_ALERT_STATE, nextAlerts, type AlertState, type Notice } from '../src/tray/notifications.js';
import { status } from './support/relay-status.js';

/** Feeds statuses in order; returns the kinds notified at each step. */
function run(statuses: Partial<RelayStatus>[], stuckAfterMinutes = 15, from: AlertState = INITIAL_ALERT_STATE): Notice['kind'][][] {
  let state = from;
  return statuses.map((over) => {
    const next = nextAlerts(state, status(over), stuckAfterMinutes);
    state = next.state;
    return next.notices.map((n) => n.kind);
  });
}

const MIN = 60;
const stuck = (age: number, queued = 2): Partial<RelayStatus> => ({ queued, deferred: queued, oldestQueuedSeconds: age, lastError: 'a@b.c: 451 4.4.1 timeout' });

describe('notifications', () => {
  it('a stuck message notifies once while it stays stuck, then the drain once', () => {
    expect(run([
      stuck(14 * MIN), // not yet
      stuck(15 * MIN), // now
      stuck(20 * MIN), // still the same condition: silent
      stuck(45 * MIN, 5), // more mail, still stuck: silent
      { queued: 0 }, // drained
      { queued: 0 }, // nothing new
    ])).toEqual([[], ['stuck'], [], [], ['drained'], []]);
  });

  it('notifies again only after the stuck condition has cleared', () => {
    expect(run([stuck(16 * MIN), { queued: 1, oldestQueuedSeconds: 30 }, stuck(16 * MIN)]))
      .toEqual([['stuck'], [], ['stuck']]);
  });

  it('uses alerts.stuckAfterMinutes', () => {
    expect(run([stuck(5 * MIN)], 5)).toEqual([['stuck']]);
    expect(run([stuck(59 * MIN)], 60)).toEqual([[]]);
  });

  it('an authentication failure notifies once until the state changes, and the drain after it', () => {
    const auth: Partial<RelayStatus> = { state: 'auth-failed', queued: 3, deferred: 3, oldestQueuedSeconds: 60, lastError: '535 5.7.139 Authentication unsuccessful' };
    expect(run([auth, auth, auth, { queued: 3, sending: 3, oldestQueuedSeconds: 90 }, { queued: 0 }]))
      .toEqual([['auth-failed'], [], [], [], ['drained']]);
    expect(run([auth, { queued: 3 }, auth])).toEqual([['auth-failed'], [], ['auth-failed']]);
  });

  it('does not call an emptied queue "moving again" while the login is still refused', () => {
    expect(run([{ state: 'auth-failed', queued: 1 }, { state: 'auth-failed', queued: 0 }, { queued: 0 }]))
      .toEqual([['auth-failed'], [], ['drained']]);
  });

  it('a queue that empties without any alert before says nothing', () => {
    expect(run([{ queued: 4, sending: 2, oldestQueuedSeconds: 3 }, { queued: 0 }])).toEqual([[], []]);
  });

  it('a stopped relay (quitting, restarting) neither raises nor clears anything', () => {
    expect(run([stuck(16 * MIN), { state: 'stopped' }, stuck(17 * MIN)])).toEqual([['stuck'], [], []]);
  });

  it('both conditions at once give both notices, then one drain', () => {
    expect(run([{ ...stuck(30 * MIN), state: 'auth-failed' }, { queued: 0 }])).toEqual([['stuck', 'auth-failed'], ['drained']]);
  });

  it('says what is wrong in words an admin can act on', () => {
    const [s] = nextAlerts(INITIAL_ALERT_STATE, status(stuck(20 * MIN, 1)), 15).notices;
    expect(s).toEqual({ kind: 'stuck', title: 'Mail is stuck in the relay', body: '1 message is waiting, the oldest for 20 min. Last error: a@b.c: 451 4.4.1 timeout' });
    const [a] = nextAlerts(INITIAL_ALERT_STATE, status({ state: 'auth-failed', queued: 1, lastError: '535 5.7.139 Authentication unsuccessful' }), 15).notices;
    expect(a?.body).toBe('535 5.7.139 Authentication unsuccessful Delivery is stopped until the sign-in is fixed: Fix the sign-in in the settings.');
  });

  it('tells an OAuth2 user what fixes their sign-in, not to enter a password', () => {
    const lastError = 'no OAuth2 access token: AADSTS7000215: Invalid client secret provided.';
    const advice = oauthAdviceFor(lastError, 'oauth2-microsoft');
    expect(advice).not.toBeNull();
    const [a] = nextAlerts(INITIAL_ALERT_STATE, status({ state: 'auth-failed', queued: 1, lastError, advice }), 15).notices;
    expect(a?.body).toContain(lastError);
    expect(a?.body).not.toMatch(/enter the password/);
  });

  it('stuck behind a smarthost that refuses connections: the notice says so; a low disk notifies once', () => {
    const unreachable = { since: Date.now() - 20 * 60_000, until: Date.now() + 60_000, reason: 'connect ECONNREFUSED 10.0.0.5:587', host: 'smtp.contoso.com[10.0.0.5]:587' };
    const [s] = nextAlerts(INITIAL_ALERT_STATE, status(stuck(20 * MIN, 1), { unreachable }), 15).notices;
    expect(s?.body).toBe('1 message is waiting, the oldest for 20 min. smtp.contoso.com[10.0.0.5]:587 has not taken a connection for 20 min: connect ECONNREFUSED 10.0.0.5:587; 1 message waiting.');
    let state = INITIAL_ALERT_STATE;
    const kinds = [1, 2].map(() => {
      const next = nextAlerts(state, status({ queued: 1, oldestQueuedSeconds: 5 }, { diskLow: { freeBytes: 20e6 } }), 15);
      state = next.state;
      return next.notices.map((n) => `${n.kind}: ${n.body}`);
    });
    expect(kinds).toEqual([['disk-low: The spool\'s disk has only 20 MB free: new mail is refused (452 4.3.1) until space is freed; queued mail is still delivered.'], []]);
  });
});
