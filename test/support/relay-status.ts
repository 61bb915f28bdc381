// A RelayStatus of a running relay with an empty queue, with fields overridden per test.
import type { RelayStatus } from '../../src/api/contract.js';

export function status(over: Partial<RelayStatus> = {}): RelayStatus {
  return {
    state: 'running', queued: 0, deferred: 0, failed: 0, corrupt: 0, sending: 0, oldestQueuedSeconds: null,
    lastError: null, advice: null, lastDelivery: null, listening: '127.0.0.1:25', configError: null, configRevision: '0123456789abcdef', stalled: null, ...over,
  };
}
