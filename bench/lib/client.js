// A small SMTP client for what smtp-source cannot tell us: the time from the end of DATA to the 250
// (accept latency), and exactly which message got which reply (the crash loop).
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';

export class SmtpClient {
  constructor(socket) {
    this.socket = socket;
    this.buffer = '';
    this.closed = false;
    this.wake = null;
    socket.setEncoding('latin1');
    socket.setNoDelay(true);
    socket.on('data', (d) => { this.buffer += d; this.wake?.(); });
    socket.on('close', () => { this.closed = true; this.wake?.(); });
    socket.on('error', () => {});
  }

  static connect(port, timeoutMs = 10_000) {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      const timer = setTimeout(() => { s.destroy(); reject(new Error('connect timeout')); }, timeoutMs);
      s.once('connect', () => { clearTimeout(timer); resolve(new SmtpClient(s)); });
      s.once('error', (e) => { clearTimeout(timer); reject(e); });
    });
  }

  /** Connects and reads the greeting, then EHLO; rejects unless both are positive. */
  static async open(port, timeoutMs = 10_000) {
    const c = await SmtpClient.connect(port, timeoutMs);
    try {
      const greeting = await c.reply(timeoutMs);
      if (greeting.code !== 220) throw new Error(`greeting: ${greeting.text}`);
      const ehlo = await c.command('EHLO bench.test', timeoutMs);
      if (ehlo.code !== 250) throw new Error(`EHLO: ${ehlo.text}`);
      return c;
    } catch (e) {
      c.close();
      throw e;
    }
  }

  /** The next complete reply; code 0 when the connection closed or timed out first. */
  async reply(timeoutMs = 30_000) {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*(\d{3})(?: [^\n]*)?\r?\n/.exec(this.buffer);
      if (m) {
        this.buffer = this.buffer.slice(m[0].length);
        return { code: Number(m[1]), text: m[0].trimEnd() };
      }
      const left = deadline - performance.now();
      if (this.closed || left <= 0) return { code: 0, text: this.closed ? 'connection closed' : 'timeout' };
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => { clearTimeout(timer); this.wake = null; resolve(); };
      });
    }
  }

  async command(line, timeoutMs) {
    this.socket.write(line + '\r\n');
    return this.reply(timeoutMs);
  }

  /**
   * One transaction. Returns the final reply and `latencyMs`, the time from writing the end-of-data
   * dot to reading the reply to it; `afterDot` tells whether the dot was written (a lost reply then
   * means the server may have taken the message).
   */
  async send({ from, to, data }, timeoutMs = 30_000) {
    const r = { code: 0, text: '', latencyMs: NaN, afterDot: false };
    for (const [line, want] of [[`MAIL FROM:<${from}>`, 250], [`RCPT TO:<${to}>`, 250], ['DATA', 354]]) {
      const rep = await this.command(line, timeoutMs);
      if (rep.code !== want) return { ...r, ...rep };
    }
    const body = data.replace(/^\./gm, '..');
    if (!this.socket.write(body.endsWith('\r\n') ? body : body + '\r\n')) {
      await new Promise((resolve) => this.socket.once('drain', resolve));
    }
    if (this.closed) return { ...r, text: 'connection closed' };
    const t0 = performance.now();
    this.socket.write('.\r\n');
    r.afterDot = true;
    const rep = await this.reply(timeoutMs);
    return { ...r, ...rep, latencyMs: performance.now() - t0 };
  }

  close() {
    this.socket.destroy();
  }
}

/** A message of about `bytes` bytes (headers + 76-character lines). */
export function filler(bytes, subject = 'bench') {
  const head = `From: <bench@bench.test>\r\nTo: <sink@bench.test>\r\nSubject: ${subject}\r\n\r\n`;
  const line = 'x'.repeat(76) + '\r\n';
  return head + line.repeat(Math.max(1, Math.round((bytes - head.length) / line.length)));
}

/** Percentile (0..100) of a list of numbers, nearest-rank. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * Polls until a client connecting to the port gets a 220 greeting (what "ready" means for both relays);
 * resolves with performance.now() when the greeting arrived. Rejects if `child` exits first.
 */
export async function waitForGreeting(port, { child = null, timeoutMs = 120_000 } = {}) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (child && !child.running) throw new Error(`${child.cmd} exited before it greeted: ${child.tail.slice(-2000)}`);
    try {
      const c = await SmtpClient.connect(port, 2000);
      const r = await c.reply(5000);
      const at = performance.now();
      c.socket.end('QUIT\r\n');
      c.close();
      if (r.code === 220) return at;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`no 220 greeting on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
