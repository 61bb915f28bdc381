// Our relay as the bench runs it: the real `smtp-relay run` child process (bin/smtp-relay.js on the
// compiled dist/), with its full durability (every message fsynced before the 250), forwarding to the
// sink as its smarthost.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Child, run } from './proc.js';
import { waitForGreeting } from './client.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const RELAY_BIN = path.join(ROOT, 'bin/smtp-relay.js');

export class OurRelay {
  /**
   * port: where it listens; sinkPort: the smarthost; connections: smarthost.maxConnections;
   * nodeArgs: extra node flags for the relay process (e.g. --cpu-prof, from BENCH_RELAY_NODE_ARGS).
   */
  constructor({ port, sinkPort, connections, nodeArgs = [] }) {
    this.key = 'relay';
    this.name = 'SMTP Relay Tray';
    this.port = port;
    this.sinkPort = sinkPort;
    this.connections = connections;
    this.nodeArgs = nodeArgs;
    this.dir = null;
    this.child = null;
    this.memoryNote = 'the relay process (one Node.js process)';
  }

  async version() {
    const pkg = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8'));
    return `${pkg.version} (Node ${process.versions.node})`;
  }

  /** A new, empty data directory with the bench config. */
  async setup({ retrySchedule = '1s' } = {}) {
    await this.cleanup();
    this.dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-relay-'));
    const config = {
      version: 1,
      listen: { host: '127.0.0.1', port: this.port, maxClients: 200, maxConnectionsPerClient: 200 },
      delivery: { retrySchedule },
      smarthost: { host: '127.0.0.1', port: this.sinkPort, security: 'none', maxConnections: this.connections },
    };
    await fs.writeFile(path.join(this.dir, 'config.json'), JSON.stringify(config, null, 2));
  }

  /**
   * Starts the relay; resolves with the ms from the spawn to the first 220 greeting a client gets. Its
   * console output (the mail log echoed, two lines a message) goes to a file, as a service manager would
   * keep it: a pipe to this process would make the relay wait whenever the bench is busy.
   */
  async start() {
    const out = await fs.open(path.join(this.dir, 'console.log'), 'a');
    const t0 = performance.now();
    try {
      this.child = new Child(process.execPath, [...this.nodeArgs, RELAY_BIN, 'run', '--data-dir', this.dir], {
        env: { ...process.env, NODE_OPTIONS: '' }, outputFd: out.fd,
      });
    } finally {
      await out.close();
    }
    try {
      return (await waitForGreeting(this.port, { child: this.child })) - t0;
    } catch (e) {
      throw new Error(`${e.message}\n${await this.output()}`, { cause: e });
    }
  }

  /** SIGTERM (graceful); resolves with the ms it took to exit. */
  async stop() {
    if (!this.child) return 0;
    const t0 = performance.now();
    await this.child.stop('SIGTERM', 60_000);
    this.child = null;
    return performance.now() - t0;
  }

  async crash() {
    if (!this.child) return;
    await this.child.stop('SIGKILL');
    this.child = null;
  }

  /** Every waiting message due now (through the running relay's control socket). */
  async flush() {
    const r = await run(process.execPath, [RELAY_BIN, 'queue', 'retry', '--all', '--data-dir', this.dir]);
    if (r.code !== 0) throw new Error(`smtp-relay queue retry --all failed: ${r.stderr || r.stdout}`);
  }

  async pids() {
    return this.child?.running ? [this.child.pid] : [];
  }

  /** Messages in the spool (state files in q/), counted from the file names. */
  async queueSize() {
    let n = 0;
    const q = path.join(this.dir, 'spool', 'q');
    for (const bucket of await fs.readdir(q).catch(() => [])) n += (await fs.readdir(path.join(q, bucket)).catch(() => [])).length;
    return n;
  }

  /** The end of its console output. */
  async output() {
    const text = await fs.readFile(path.join(this.dir, 'console.log'), 'latin1').catch(() => '');
    return text.slice(-4000);
  }

  async cleanup() {
    await this.crash();
    if (this.dir) await fs.rm(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}
