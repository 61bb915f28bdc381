// Status events (src/status/status-events.ts): a lone change is told at once, a busy relay's stream of
// changes once a second, and the last change of a burst is never lost. Fake timers: the schedule itself
// is what is checked, not this machine's speed.
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { RelayStatus } from '../src/api/contract.js';
import { StatusEvents } from '../src/status/status-events.js';

beforeEach(() => { vi.useFakeTimers(); });
afterEach(() => { vi.useRealTimers(); });

/** Events as [ms since the start, the revision of the change they carry]. */
function watch() {
  const start = Date.now();
  let revision = 0;
  let reads = 0;
  const events = new StatusEvents(async () => { reads++; return { queued: revision } as RelayStatus; }, (e) => { throw e; });
  const seen: [number, number][] = [];
  events.on((s) => seen.push([Date.now() - start, s.queued]));
  return { events, seen, change: () => { revision++; events.changed(); }, reads: () => reads };
}

it('a lone change is told within 0.1 s', async () => {
  const w = watch();
  w.change();
  await vi.advanceTimersByTimeAsync(99);
  expect(w.seen).toEqual([]);
  await vi.advanceTimersByTimeAsync(1);
  expect(w.seen).toEqual([[100, 1]]);
});

it('a change every 10 ms for 3 s makes one event a second, and the last one carries the last change', async () => {
  const w = watch();
  for (let t = 0; t < 3000; t += 10) {
    w.change();
    await vi.advanceTimersByTimeAsync(10);
  }
  await vi.advanceTimersByTimeAsync(2000);
  expect(w.seen.map(([at]) => at)).toEqual([100, 1100, 2100, 3100]);
  expect(w.seen.at(-1)![1]).toBe(300);
  expect(w.reads()).toBe(4);
});

it('after a quiet second, a change is told within 0.1 s again', async () => {
  const w = watch();
  w.change();
  await vi.advanceTimersByTimeAsync(2000);
  w.change();
  await vi.advanceTimersByTimeAsync(100);
  expect(w.seen.map(([at]) => at)).toEqual([100, 2100]);
});

it('nothing is computed while nobody listens', async () => {
  let reads = 0;
  const events = new StatusEvents(async () => { reads++; return {} as RelayStatus; }, () => {});
  events.changed();
  events.emitNow();
  await vi.advanceTimersByTimeAsync(2000);
  expect(reads).toBe(0);
});
