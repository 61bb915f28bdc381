// What a process that runs the relay adds for fleet monitoring: state-change events (Event Log,
// journal, delivery log) and, when metrics.listen is set, the Prometheus endpoint. A change of
// metrics.listen applies while running, like every other setting.
import { parseListenAddress } from '../config/schema.js';
import type { LogLevel } from '../log/mail-log.js';
import { systemEventSink, type EventSink } from './event-log.js';
import type { MetricsSource, RelayMetrics } from './metrics.js';
import { watchStateChanges, type StateWatch, type WatchedRelay, type WatchOptions } from './state-events.js';

export interface MonitoredRelay extends WatchedRelay, MetricsSource {
  writeLog(level: LogLevel, text: string): void;
}

export interface Monitoring {
  events: StateWatch;
  close(): Promise<void>;
}

export async function attachMonitoring(relay: MonitoredRelay, opts: WatchOptions & { sink?: EventSink } = {}): Promise<Monitoring> {
  const events = watchStateChanges(relay, opts.sink ?? systemEventSink({ log: (level, text) => relay.writeLog(level, text) }), opts);
  // prom-client is loaded only once metrics are switched on: every CLI command starts faster.
  let metrics: RelayMetrics | null = null;
  let endpoint: { listen: string; close(): Promise<void> } | null = null;
  let applying = Promise.resolve();

  const apply = async () => {
    const listen = (await relay.getConfig()).metrics.listen;
    if (endpoint?.listen === listen || (!endpoint && listen === '')) return;
    await endpoint?.close();
    endpoint = null;
    const at = parseListenAddress(listen);
    if (!at) return;
    try {
      const { createMetrics, serveMetrics } = await import('./metrics.js');
      metrics ??= createMetrics(relay);
      const served = await serveMetrics(metrics.registry, at.host, at.port);
      endpoint = { listen, ...served };
      relay.writeLog('info', `metrics served on http://${served.address}/metrics`);
    } catch (e) {
      // Metrics are optional: the relay keeps relaying; the next config change tries again.
      endpoint = { listen, close: async () => {} };
      relay.writeLog('error', `cannot serve metrics on ${listen} (metrics.listen): ${(e as Error).message}`);
    }
  };
  const reapply = () => { applying = applying.then(apply, apply); };
  reapply();
  await applying;
  const unsubscribe = relay.onStatus(() => reapply());

  return {
    events,
    async close() {
      unsubscribe();
      events.close();
      metrics?.close();
      await applying;
      await endpoint?.close();
    },
  };
}
