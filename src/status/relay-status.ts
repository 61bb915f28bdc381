// RelayStatus: what the tray, the window, `smtp-relay status` and monitoring see, gathered from the
// spool's counts, the queue manager's state and the configuration in force.
import { adviceFor } from '../advice/catalogue.js';
import type { RelayState, RelayStatus } from '../api/contract.js';
import type { Config } from '../config/schema.js';
import { configRevision } from '../config/store.js';
import type { QueueManager } from '../deliver/queue-manager.js';
import { healthOf } from '../health/model.js';
import { printable } from '../log/mail-log.js';
import type { FreeSpace } from '../receive/free-space.js';
import { FREE_SPACE_FACTOR } from '../receive/server.js';
import type { Spool } from '../spool/spool.js';

/** A delivery kept waiting this long by its server shows in status as `stalled`. */
export const STALLED_AFTER = 60_000;

export interface StatusSources {
  spool: Spool;
  /** The running queue manager; null when no relay runs. */
  queue: QueueManager | null;
  config: Config;
  /** Why the config.json on disk is not the one in force, or null. */
  configError: string | null;
  /** "127.0.0.1:25" while the listener is up. */
  listening: string | null;
  freeSpace: FreeSpace;
  stalledAfterMs?: number;
}

export async function relayStatus(src: StatusSources): Promise<RelayStatus> {
  const { spool, queue: qm, config } = src;
  const age = await spool.oldestQueuedAge();
  const stats = spool.stats();
  if (qm && stats.queued === 0) qm.dismissError();
  const q = qm?.status() ?? null;
  const state = relayState(qm, config);
  const lastError = q?.lastError ? printable(q.lastError) : (state === 'unconfigured' ? notSetUpReason(config) : null);
  const oldestQueuedSeconds = age === null ? null : Math.floor(age / 1000);
  const free = qm ? await src.freeSpace.available() : null;
  const diskLow = free != null && free < FREE_SPACE_FACTOR * config.listen.maxMessageBytes ? { freeBytes: free } : null;
  const sending = q?.sending ?? 0;
  return {
    ...stats,
    state,
    sending,
    oldestQueuedSeconds,
    lastError,
    advice: adviceFor(lastError, { method: config.smarthost.auth.method, smarthost: config.smarthost }),
    lastDelivery: q?.lastDelivery ?? null,
    listening: src.listening,
    configError: src.configError,
    configRevision: configRevision(config),
    stalled: qm?.stalled(src.stalledAfterMs ?? STALLED_AFTER) ?? null,
    health: healthOf({
      ...stats, state, sending, oldestQueuedSeconds, lastError, diskLow,
      unreachable: q?.unreachable ?? null, nextDue: q?.nextDue ?? null, stuckAfterMinutes: config.alerts.stuckAfterMinutes,
    }),
  };
}

function relayState(qm: QueueManager | null, config: Config): RelayState {
  if (!qm) return 'stopped';
  const q = qm.status();
  if (q.blocked) return q.blocked.state;
  if (notSetUpReason(config)) return 'unconfigured';
  return q.paused ? 'paused' : 'running';
}

/** A first run (no smarthost yet) is not set up, before any mail has tried to leave. */
function notSetUpReason(c: Config): string | null {
  return c.delivery.mode === 'smarthost' && !c.smarthost.host ? 'no smarthost configured yet: enter the server that sends your mail' : null;
}
