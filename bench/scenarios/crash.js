// Scenario 6: crash loop. Clients send without pause while the relay is killed with SIGKILL (every
// process of it) at random moments, 20 times, restarted each time; then its queue is flushed and it
// runs until every acknowledged message has arrived and the sink stays quiet. Every message carries its own Message-ID and a checksum, and the sink counts copies, so:
//   acknowledged = got 250; lost = acknowledged but never delivered (must be 0);
//   duplicates = delivered more than once (allowed: at-least-once, a reply lost in the crash);
//   wrongly delivered = refused or cut before the final dot, yet delivered (must be 0);
//   damaged = delivered but not whole (must be 0).
// A message whose final dot was written but whose reply was lost in the crash may go either way.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { SmtpClient } from '../lib/client.js';
import { CountingSink, crashMessage } from '../lib/sink.js';
import { until } from '../lib/proc.js';

export async function crashLoop(ctx, system) {
  const { kills, senders, minUpMs, maxUpMs, drainTimeoutMs } = ctx.plan.crash;
  const sink = new CountingSink(ctx.sinkPort);
  await system.setup();
  const fates = new Map();
  let seq = 0;
  let stop = false;
  const restarts = [];
  try {
    await sink.start();
    await system.start();
    const workers = Array.from({ length: senders }, (_, w) => sendLoop(system.port, w, () => stop, () => `${system.key}-${seq++}`, fates));
    for (let k = 0; k < kills; k++) {
      await sleep(minUpMs + Math.random() * (maxUpMs - minUpMs));
      await system.crash();
      restarts.push(await system.start());
    }
    stop = true;
    await Promise.all(workers);

    // Whatever a crash left deferred goes now; then wait for every acknowledged message, and until
    // nothing more arrives for a while (late duplicates count too).
    await system.flush();
    const acked = [...fates].filter(([, f]) => f === 'acked').map(([id]) => id);
    const t0 = performance.now();
    await until(() => acked.every((id) => sink.copies.has(id)), {
      timeoutMs: drainTimeoutMs, intervalMs: 250, what: 'every acknowledged message at the sink',
    }).catch((e) => ctx.log(`  ${e.message}`));
    const drainSeconds = (performance.now() - t0) / 1000;
    let seen = -1;
    await until(async () => {
      const now = sink.total;
      const quiet = now === seen;
      seen = now;
      return quiet;
    }, { timeoutMs: 30_000, intervalMs: 2000, what: 'the sink to stay quiet' }).catch(() => {});
    const leftInQueue = await system.queueSize();

    const tally = (f) => [...fates.values()].filter((x) => x === f).length;
    const delivered = (id) => sink.copies.get(id) ?? 0;
    return {
      kills, senders,
      attempts: fates.size,
      acknowledged: acked.length,
      deliveredOfAcknowledged: acked.filter((id) => delivered(id) > 0).length,
      lost: acked.filter((id) => delivered(id) === 0).length,
      duplicates: [...sink.copies.values()].filter((n) => n > 1).length,
      replyLost: tally('unknown'),
      replyLostDelivered: [...fates].filter(([id, f]) => f === 'unknown' && delivered(id) > 0).length,
      refusedOrCut: tally('refused') + tally('cut'),
      wronglyDelivered: [...fates].filter(([id, f]) => (f === 'refused' || f === 'cut') && delivered(id) > 0).length,
      damaged: sink.damaged.length,
      meanRestartSeconds: restarts.reduce((a, b) => a + b, 0) / restarts.length / 1000,
      finalDrainSeconds: drainSeconds,
      leftInQueue,
    };
  } finally {
    stop = true;
    await system.cleanup();
    await sink.stop();
  }
}

/**
 * One client: a connection reused for message after message; on any failure the fate of the message in
 * hand is recorded and it reconnects (waiting while the relay is down).
 */
async function sendLoop(port, _worker, stopped, nextId, fates) {
  while (!stopped()) {
    let c;
    try {
      c = await SmtpClient.open(port, 2000);
    } catch {
      await sleep(20);
      continue;
    }
    try {
      while (!stopped()) {
        const id = nextId();
        const r = await c.send({ from: 'bench@bench.test', to: 'sink@bench.test', data: crashMessage(id) }, 10_000);
        if (r.code === 250) fates.set(id, 'acked');
        else if (r.code === 0 && r.afterDot) fates.set(id, 'unknown');
        else fates.set(id, r.code === 0 ? 'cut' : 'refused');
        if (r.code !== 250) break;
      }
    } finally {
      c.close();
    }
  }
}
