// Scenario 4: a backlog. N × 2 KB are queued while the sink is down (smtp-source, 20 sessions); then:
// memory at rest; a restart with that queue (graceful stop, then start: the time to the first 220
// greeting); memory again; then the sink comes up, the queue is flushed (`smtp-relay queue retry --all`,
// `postqueue -f`) and the drain rate is messages / time from the flush to the sink having them all.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { memoryOf, sampleMemory, until } from '../lib/proc.js';
import { smtpSource } from '../lib/source.js';

export async function backlog(ctx, system) {
  const { messages, sessions, size, settleMs } = ctx.plan.backlog;
  const sink = ctx.newSink();
  // A long retry step: while the sink is down the relay should wait, as Postfix does, not poll it.
  await system.setup({ retrySchedule: '10m' });
  try {
    await system.start();
    const src = await smtpSource(ctx.tools['smtp-source'], { port: system.port, messages, sessions, size, reuse: true });
    const injectSeconds = src.ms / 1000;
    await until(async () => (await system.queueSize()) >= messages, { timeoutMs: 600_000, intervalMs: 500, what: `${messages} messages queued` });
    if (system.atRest) await until(() => system.atRest(), { timeoutMs: 600_000, intervalMs: 500, what: 'the queue to settle' });
    await sleep(settleMs);
    const rest = await memoryOf(await system.pids());

    const stopMs = await system.stop();
    const readyMs = await system.start();
    await sleep(settleMs);
    const restarted = await memoryOf(await system.pids());

    await sink.start();
    const sampler = sampleMemory(() => system.pids(), 250);
    const d0 = performance.now();
    await system.flush();
    const dEnd = await sink.waitForCount(messages, 900_000);
    const drainPeak = await sampler.stop();
    return {
      messages, sessions, size,
      injectSeconds, injectRate: messages / injectSeconds,
      restRss: rest.rss, restPss: rest.pss, restProcesses: rest.processes,
      stopSeconds: stopMs / 1000, restartReadySeconds: readyMs / 1000,
      restartedRss: restarted.rss, restartedPss: restarted.pss,
      drainSeconds: (dEnd - d0) / 1000, drainRate: messages / ((dEnd - d0) / 1000),
      drainPeakRss: drainPeak.rss, drainPeakPss: drainPeak.pss,
    };
  } finally {
    await system.cleanup();
    await sink.stop();
  }
}
