// The Prometheus endpoint, scraped over loopback while `smtp-relay run` relays real mail.
import fs from 'node:fs/promises';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, parseListenAddress } from '../src/config/schema.js';
import { saveConfig } from '../src/config/store.js';
import { cli, runRelay, type RunningRelay } from './support/cli.js';
import { freePort, tempDataDir, waitFor } from './support/relay.js';
import { startUpstream, type Upstream } from './support/upstream.js';

let dataDir: string;
let up: Upstream;
let relay: RunningRelay;
let smtpPort: number;
let metricsPort: number;

beforeAll(async () => {
  up = await startUpstream({ starttls: 'disabled' });
  dataDir = await tempDataDir();
  smtpPort = await freePort();
  metricsPort = await freePort();
  await saveConfig(dataDir, { listen: { port: smtpPort }, delivery: { retrySchedule: '1h' }, smarthost: { host: '127.0.0.1', port: up.port, security: 'none' } });
  relay = await runRelay(dataDir);
});

afterAll(async () => {
  relay?.child.kill('SIGTERM');
  await relay?.exited;
  await up?.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
});

async function send(n: number): Promise<void> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
  for (let i = 0; i < n; i++) await t.sendMail({ from: 'app@jts.local', to: `ops${i}@contoso.com`, subject: `m${i}`, text: 'x' });
  t.close();
}

async function scrape(): Promise<{ type: string; samples: Map<string, number> }> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return { type: res.headers.get('content-type') ?? '', samples };
}

describe('metrics endpoint', () => {
  it('is off by default and starts when metrics.listen is set on the running relay', async () => {
    await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
    const r = await cli(['config', 'set', 'metrics.listen', String(metricsPort), '--data-dir', dataDir]);
    expect(r, r.stderr).toMatchObject({ code: 0 });
    await waitFor(() => relay.output().includes(`metrics served on http://127.0.0.1:${metricsPort}/metrics`), 10_000, 'the metrics endpoint');
    expect((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status).toBe(404);
  });

  it('counts accepted and delivered mail, with latencies, queue sizes, disk and memory', async () => {
    await send(3);
    await waitFor(() => up.messages.length === 3, 20_000, 'three deliveries');
    const { type, samples } = await waitFor(async () => {
      const s = await scrape();
      return s.samples.get('smtp_relay_deliveries_total{outcome="sent"}') === 3 && s.samples.get('smtp_relay_queue_messages{state="queued"}') === 0 ? s : null;
    }, 10_000, 'three sent deliveries counted and the queue empty');
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(samples.get('smtp_relay_accept_latency_seconds_count')).toBe(3);
    expect(samples.get('smtp_relay_accept_latency_seconds_bucket{le="+Inf"}')).toBe(3);
    expect(samples.get('smtp_relay_delivery_latency_seconds_count')).toBe(3);
    expect(samples.get('smtp_relay_deliveries_total{outcome="deferred"}')).toBe(0);
    expect(samples.get('smtp_relay_queue_messages{state="queued"}')).toBe(0);
    expect(samples.get('smtp_relay_state{state="running"}')).toBe(1);
    expect(samples.get('smtp_relay_state{state="stopped"}')).toBe(0);
    expect(samples.get('smtp_relay_spool_disk_free_bytes')).toBeGreaterThan(0);
    expect(samples.get('process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(samples.get('smtp_relay_smarthost_connection_failures_total')).toBe(0);
  });

  it('shows a smarthost that refuses connections: failures, a deferred message and its age', async () => {
    const closed = await freePort();
    expect((await cli(['config', 'set', 'smarthost.port', String(closed), '--data-dir', dataDir])).code).toBe(0);
    await send(1);
    const { samples } = await waitFor(async () => {
      const s = await scrape();
      return (s.samples.get('smtp_relay_smarthost_connection_failures_total') ?? 0) >= 1 && s.samples.get('smtp_relay_queue_messages{state="deferred"}') === 1 ? s : null;
    }, 20_000, 'the connection failure');
    expect(samples.get('smtp_relay_queue_messages{state="queued"}')).toBe(1);
    expect(samples.get('smtp_relay_deliveries_total{outcome="deferred"}')).toBe(1);
    expect(samples.get('smtp_relay_oldest_queued_seconds')).toBeGreaterThanOrEqual(0);
    expect(samples.get('smtp_relay_deliveries_total{outcome="sent"}')).toBe(3);
  });
});

describe('metrics.listen', () => {
  it('a port alone is loopback; an address is the admin\'s choice; anything else is refused by name', () => {
    expect(parseListenAddress('9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListenAddress('0.0.0.0:9464')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(parseListenAddress('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    expect(parseConfig({}).metrics.listen).toBe('');
    expect(() => parseConfig({ metrics: { listen: 'localhost:9464' } })).toThrow(/metrics\.listen: must be a port \(9464\) or an address and port/);
    expect(() => parseConfig({ metrics: { listen: '70000' } })).toThrow(/metrics\.listen/);
  });
});
