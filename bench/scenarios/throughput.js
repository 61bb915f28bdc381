// Scenario 1 (throughput) and 3 (memory): 5,000 × 5 KB over 10 reused sessions with smtp-source.
// Accept rate: messages / time until smtp-source had its last 250. End-to-end rate: messages / time
// until the sink had them all. Memory: peak while it runs, and idle a few seconds after the sink has
// everything.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuOf, memoryOf, sampleMemory } from '../lib/proc.js';
import { smtpSource } from '../lib/source.js';

export async function throughput(ctx, system) {
  const { messages, sessions, size, idleWaitMs } = ctx.plan.throughput;
  const sink = ctx.newSink();
  await system.setup();
  try {
    await sink.start();
    await system.start();
    const before = await memoryOf(await system.pids());
    const cpuBefore = await cpuOf(await system.pids());
    const sampler = sampleMemory(() => system.pids());
    const t0 = performance.now();
    const src = await smtpSource(ctx.tools['smtp-source'], { port: system.port, messages, sessions, size, reuse: true });
    const tEnd = await sink.waitForCount(messages, 600_000);
    const cpuMs = (await cpuOf(await system.pids())) - cpuBefore;
    const peak = await sampler.stop();
    const after = await memoryOf(await system.pids());
    // An exact peak where the process keeps one (VmHWM): sampling every 100 ms can miss a short spike.
    const peakRss = Math.max(peak.rss, system.key === 'relay' ? after.hwm : 0);
    await sleep(idleWaitMs);
    const idle = await memoryOf(await system.pids());
    return {
      messages, sessions, size,
      acceptSeconds: src.ms / 1000,
      acceptRate: messages / (src.ms / 1000),
      endToEndSeconds: (tEnd - t0) / 1000,
      endToEndRate: messages / ((tEnd - t0) / 1000),
      cpuMsPerMessage: cpuMs / messages,
      memory: {
        startRss: before.rss, peakRss, peakPss: peak.pss, peakProcesses: peak.processes,
        idleRss: idle.rss, idlePss: idle.pss, idleProcesses: idle.processes, idleAfterSeconds: idleWaitMs / 1000,
        idleProcessNames: idle.names,
      },
    };
  } finally {
    await system.cleanup();
    await sink.stop();
  }
}
