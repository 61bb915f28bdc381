// A RelayStatus of a running relay with an empty queue, with fields overridden per test.
// Its health is what the model makes of those facts (stuck after 15 min, the default), unless given.
import type { RelayStatus } from '../../src/api/contract.js';
import { healthOf, type HealthFacts } from '../../src/health/model.js';

export function status(over: Partial<RelayStatus> = {}, facts: Partial<HealthFacts> = {}): RelayStatus {
  const s = {
    state: 'running', queued: 0, deferred: 0, failed: 0, corrupt: 0, sending: 0, oldestQueuedSeconds: null,
    lastError: null, advice: null, lastDelivery: null, listening: '127.0.0.1:25', configError: null, configRevision: '0123456789abcdef', stalled: null, ...over,
  } as const;
  return {
    ...s,
    health: over.health ?? healthOf({ ...s, unreachable: null, diskLow: null, nextDue: null, stuckAfterMinutes: 15, ...facts }),
  };
}
