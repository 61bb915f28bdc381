// The upstream both relays forward to: Postfix's smtp-sink (C, fast, counts messages) for the timed
// scenarios, and a small Node sink for the crash loop, which must know exactly which message arrived
// how many times and whether it arrived whole.
import { Buffer } from 'node:buffer';
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { SMTPServer } from 'smtp-server';
import { Child, waitForPort } from './proc.js';
import { isRoot } from './tools.js';

/** smtp-sink with its running counter (-c): `count` is the number of messages it has received. */
export class SmtpSink {
  constructor(bin, port) {
    this.bin = bin;
    this.port = port;
    this.count = 0;
    this.child = null;
    this.waiters = [];
  }

  async start() {
    this.count = 0;
    // -c: counters on stdout ("sess=N quit=N mesg=N\r"); -u: required when started as root; 1024: listen backlog.
    const args = ['-c', ...(isRoot() ? ['-u', 'nobody'] : []), `127.0.0.1:${this.port}`, '1024'];
    let pending = '';
    this.child = new Child(this.bin, args, {
      onData: (d, now) => {
        pending += d;
        const parts = pending.split('\r');
        pending = parts.pop() ?? '';
        for (const p of parts) {
          const m = /mesg=(\d+)/.exec(p);
          if (m) this.count = Number(m[1]);
        }
        this.waiters = this.waiters.filter((w) => (this.count >= w.n ? (w.resolve(now), false) : true));
      },
    });
    await waitForPort(this.port, { child: this.child });
  }

  /** Resolves with performance.now() at the moment the sink's count reached n. */
  waitForCount(n, timeoutMs) {
    if (this.count >= n) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const w = { n, resolve: (t) => { clearTimeout(timer); resolve(t); } };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`the sink had ${this.count} of ${n} messages after ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  async stop() {
    await this.child?.stop('SIGTERM', 5000);
    this.child = null;
  }
}

/**
 * An smtp-server upstream that records, per Message-ID, how many copies arrived and whether each was
 * whole (the crash loop's messages end with a checksum of their body, see crashMessage()).
 */
export class CountingSink {
  constructor(port) {
    this.port = port;
    this.copies = new Map();
    this.damaged = [];
    this.server = null;
  }

  get total() {
    let n = 0;
    for (const c of this.copies.values()) n += c;
    return n;
  }

  async start() {
    this.server = new SMTPServer({
      authOptional: true, disabledCommands: ['AUTH', 'STARTTLS'], disableReverseLookup: true, logger: false,
      onData: (stream, _session, cb) => {
        const chunks = [];
        stream.on('data', (c) => chunks.push(c));
        stream.on('end', () => {
          const text = Buffer.concat(chunks).toString('latin1');
          const id = /^Message-ID: <([^@>]+)@bench\.test>/mi.exec(text)?.[1] ?? '(none)';
          if (!isWhole(text)) this.damaged.push(id);
          this.copies.set(id, (this.copies.get(id) ?? 0) + 1);
          cb(null, 'Ok');
        });
      },
    });
    // A relay killed mid-delivery resets its connections: expected here, not an error of the bench.
    this.server.on('error', () => {});
    await new Promise((resolve, reject) => {
      this.server.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', resolve);
    });
  }

  async stop() {
    const s = this.server;
    this.server = null;
    if (s) await new Promise((r) => s.close(r));
  }
}

/** A crash-loop message: its last line is the SHA-256 of the body before it, so a cut one is recognised. */
export function crashMessage(id, filler = 120) {
  const body = Array.from({ length: filler }, (_, i) => `line ${i} of ${id} ${'.'.repeat(60)}`).join('\r\n');
  const sum = crypto.createHash('sha256').update(body).digest('hex');
  return `From: <bench@bench.test>\r\nTo: <sink@bench.test>\r\nSubject: crash loop ${id}\r\nMessage-ID: <${id}@bench.test>\r\n\r\n${body}\r\nEND ${sum}\r\n`;
}

/** The message (as the sink got it, our headers and the relay's Received: included) ends with the checksum of its body. */
export function isWhole(text) {
  const t = text.replace(/\r?\n/g, '\r\n');
  const start = t.indexOf('\r\n\r\n');
  const end = t.lastIndexOf('\r\nEND ');
  if (start < 0 || end < start) return false;
  const sum = /^\r\nEND ([0-9a-f]{64})\r\n$/.exec(t.slice(end))?.[1];
  return sum === crypto.createHash('sha256').update(t.slice(start + 4, end)).digest('hex');
}
