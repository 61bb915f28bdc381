// Scenario 5: one connection per message, the way JavaMail's Transport.send (and so IBM Jazz Team
// Server) sends: smtp-source without -d, at 1 and at 10 sessions. Each run is capped in time; a run
// that hits the cap reports the rate over the messages it completed (and says so).
import { smtpSource } from '../lib/source.js';

export async function perConnection(ctx, system) {
  const { messages, size, sessionCounts, timeLimitMs } = ctx.plan.perConnection;
  const sink = ctx.newSink();
  await system.setup();
  try {
    await sink.start();
    await system.start();
    const results = {};
    for (const sessions of sessionCounts) {
      const r = await smtpSource(ctx.tools['smtp-source'], { port: system.port, messages, sessions, size, reuse: false, timeLimitMs });
      results[sessions] = { sessions, messages: r.sent, planned: messages, size, seconds: r.ms / 1000, rate: r.sent / (r.ms / 1000), timedOut: r.timedOut };
    }
    return results;
  } finally {
    await system.cleanup();
    await sink.stop();
  }
}
