// Status events for the tray and the window: bursts of changes (a batch of deliveries) coalesce into
// one event, and nothing is computed while nobody listens.
import { EventEmitter } from 'node:events';
import type { RelayStatus } from '../api/contract.js';

/** One status event per this many ms at the most. */
const COALESCE_MS = 100;

export class StatusEvents {
  private readonly events = new EventEmitter();
  private timer: NodeJS.Timeout | null = null;

  /** `current` gives the status to send; `failed` hears why it could not be read. */
  constructor(private readonly current: () => Promise<RelayStatus>, private readonly failed: (e: Error) => void) {}

  on(listener: (status: RelayStatus) => void): () => void {
    this.events.on('status', listener);
    return () => this.events.off('status', listener);
  }

  /** Something changed: an event follows within COALESCE_MS. */
  changed(): void {
    if (this.timer || this.events.listenerCount('status') === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.emitNow();
    }, COALESCE_MS);
  }

  /** An event now (the relay stopped), and none still pending. */
  emitNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.events.listenerCount('status') === 0) return;
    this.current().then((s) => this.events.emit('status', s), (e: Error) => this.failed(e));
  }
}
