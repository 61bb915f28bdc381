// Status events for the tray and the window: bursts of changes (a batch of deliveries) coalesce into
// one event, and nothing is computed while nobody listens.
import { EventEmitter } from 'node:events';
import type { RelayStatus } from '../api/contract.js';

/** A change is told this many ms after it at the soonest, so that a burst of changes makes one event... */
const COALESCE_MS = 100;
/**
 * ...and never sooner than this after the previous event. A relay delivering hundreds of messages a second
 * changes its status all the time; once a second is what a person can read in the tray or the window, and
 * every event is a status computed, the public status file written and the window redrawn: at ten a second
 * the open queue page took a third of the delivery rate on a 2-core machine (bench/queue-page.measure.ts).
 */
const MIN_INTERVAL_MS = 1000;

export class StatusEvents {
  private readonly events = new EventEmitter();
  private timer: NodeJS.Timeout | null = null;
  private lastEmitted = 0;

  /** `current` gives the status to send; `failed` hears why it could not be read. */
  constructor(private readonly current: () => Promise<RelayStatus>, private readonly failed: (e: Error) => void) {}

  on(listener: (status: RelayStatus) => void): () => void {
    this.events.on('status', listener);
    return () => this.events.off('status', listener);
  }

  /** Something changed: an event follows within COALESCE_MS, or MIN_INTERVAL_MS after the last one. */
  changed(): void {
    if (this.timer || this.events.listenerCount('status') === 0) return;
    const wait = Math.max(COALESCE_MS, this.lastEmitted + MIN_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.emitNow();
    }, wait);
  }

  /** An event now (the relay stopped), and none still pending. */
  emitNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.events.listenerCount('status') === 0) return;
    this.lastEmitted = Date.now();
    this.current().then((s) => this.events.emit('status', s), (e: Error) => this.failed(e));
  }
}
