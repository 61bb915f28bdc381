// Scenario 2: accept latency, the time from the end of DATA (the final dot written) to the 250, seen
// by our own small client (smtp-source does not time single replies). Each session sends its messages
// one after another on one connection; the relay delivers to the sink meanwhile, as it would in use.
import { performance } from 'node:perf_hooks';
import { SmtpClient, filler, percentile } from '../lib/client.js';

export async function latency(ctx, system) {
  const { size, warmup, runs } = ctx.plan.latency;
  const sink = ctx.newSink();
  await system.setup();
  try {
    await sink.start();
    await system.start();
    await sessionsSending(system.port, 1, warmup, size); // first connections, JIT, page cache: not counted
    const results = {};
    for (const { sessions, perSession } of runs) {
      const t0 = performance.now();
      const samples = await sessionsSending(system.port, sessions, perSession, size);
      const seconds = (performance.now() - t0) / 1000;
      results[sessions] = {
        sessions, messages: samples.length, size,
        p50: percentile(samples, 50), p99: percentile(samples, 99), max: Math.max(...samples),
        mean: samples.reduce((a, b) => a + b, 0) / samples.length,
        rate: samples.length / seconds,
      };
    }
    return results;
  } finally {
    await system.cleanup();
    await sink.stop();
  }
}

/** `sessions` connections, each sending `count` messages in turn; returns every DATA-end → 250 time (ms). */
async function sessionsSending(port, sessions, count, size) {
  const data = filler(size, 'latency');
  const all = await Promise.all(Array.from({ length: sessions }, async () => {
    const c = await SmtpClient.open(port);
    const samples = [];
    try {
      for (let i = 0; i < count; i++) {
        const r = await c.send({ from: 'bench@bench.test', to: 'sink@bench.test', data });
        if (r.code !== 250) throw new Error(`message refused: ${r.text}`);
        samples.push(r.latencyMs);
      }
      await c.command('QUIT', 5000);
    } finally {
      c.close();
    }
    return samples;
  }));
  return all.flat();
}
