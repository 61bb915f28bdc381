// Prometheus metrics (metrics.listen): queue sizes, the oldest message's age, deliveries by outcome,
// accept and delivery latency, smarthost connection and sign-in failures, free disk, process memory.
// Counts and ages are read from the relay when scraped; events are counted from the delivery log's
// lines (its Postfix shape is stable, which is also how postfix_exporter works), so no delivery code
// carries metrics calls.
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RelayState, RelayStatus } from '../api/contract.js';

export interface MetricsSource {
  getStatus(): Promise<RelayStatus>;
  onLogLine(listener: (line: string) => void): () => void;
  readonly dataDir: string;
}

const STATES: RelayState[] = ['running', 'paused', 'auth-failed', 'unconfigured', 'stopped'];

const ACCEPTED = / commit=([\d.]+) status=queued$/;
const DELIVERY = / delay=([\d.]+) delays=[\d.]+ attempts=\d+ status=(sent|deferred|bounced) \(/;
const UNREACHABLE = / relay=\S+ unreachable \(/;
const AUTH_FAILED = / delivery stopped: authentication failed at /;

export interface RelayMetrics {
  registry: Registry;
  close(): void;
}

export function createMetrics(source: MetricsSource): RelayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const spoolDir = path.join(source.dataDir, 'spool');

  const status = () => source.getStatus().catch(() => null);

  new Gauge({
    name: 'smtp_relay_state', help: 'The relay state: 1 for the current one', labelNames: ['state'], registers: [registry],
    async collect() {
      const s = await status();
      for (const st of STATES) this.set({ state: st }, s?.state === st ? 1 : 0);
    },
  });
  new Gauge({
    name: 'smtp_relay_queue_messages', labelNames: ['state'], registers: [registry],
    help: 'Messages in the spool: queued = all waiting (the tray\'s number), deferred = those of them with a failed attempt, failed = kept after a permanent failure, corrupt = moved aside, sending = in delivery now',
    async collect() {
      const s = await status();
      if (!s) return;
      for (const k of ['queued', 'deferred', 'failed', 'corrupt', 'sending'] as const) this.set({ state: k }, s[k]);
    },
  });
  new Gauge({
    name: 'smtp_relay_oldest_queued_seconds', help: 'Age of the oldest waiting message (0 when none waits)', registers: [registry],
    async collect() {
      this.set((await status())?.oldestQueuedSeconds ?? 0);
    },
  });
  new Gauge({
    name: 'smtp_relay_spool_disk_free_bytes', help: 'Bytes free on the disk holding the spool', registers: [registry],
    async collect() {
      const s = await fs.statfs(spoolDir).catch(() => null);
      if (s) this.set(s.bavail * s.bsize);
    },
  });
  const deliveries = new Counter({ name: 'smtp_relay_deliveries_total', help: 'Delivery attempts per recipient, by outcome', labelNames: ['outcome'], registers: [registry] });
  for (const outcome of ['sent', 'deferred', 'bounced']) deliveries.inc({ outcome }, 0);
  const accepted = new Histogram({
    name: 'smtp_relay_accept_latency_seconds', help: 'From the end of a message\'s DATA to the 250 reply (the durable write)', registers: [registry],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  const delivered = new Histogram({
    name: 'smtp_relay_delivery_latency_seconds', help: 'From acceptance to delivery, per recipient sent', registers: [registry],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400, 86_400],
  });
  const connectionFailures = new Counter({ name: 'smtp_relay_smarthost_connection_failures_total', help: 'Connections to the smarthost (or an MX host) refused, dropped or timed out', registers: [registry] });
  const authFailures = new Counter({ name: 'smtp_relay_auth_failures_total', help: 'Times the smarthost refused the sign-in (delivery paused)', registers: [registry] });

  const unsubscribe = source.onLogLine((line) => {
    let m;
    if ((m = ACCEPTED.exec(line))) accepted.observe(Number(m[1]));
    else if ((m = DELIVERY.exec(line))) {
      deliveries.inc({ outcome: m[2] });
      if (m[2] === 'sent') delivered.observe(Number(m[1]));
    } else if (UNREACHABLE.test(line)) connectionFailures.inc();
    else if (AUTH_FAILED.test(line)) authFailures.inc();
  });
  return { registry, close: unsubscribe };
}

/** Serves GET /metrics on host:port; resolves once listening, with the address actually bound. */
export async function serveMetrics(registry: Registry, host: string, port: number): Promise<{ address: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/metrics') return void res.writeHead(404).end('see /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (e: Error) => res.writeHead(500).end(`${e.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  const a = server.address() as { address: string; port: number };
  return {
    address: `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
