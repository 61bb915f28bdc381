// A byte-level SMTP client for tests that must say exactly what a real client would not:
// oversized bodies, hostile sequences, a disconnect in the middle of DATA.
import net from 'node:net';

export class RawSmtp {
  private buffer = '';
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => { this.buffer += d; this.notify(); });
    socket.on('close', () => { this.closed = true; this.notify(); });
    socket.on('error', () => {});
  }

  /** localAddress: the source address, e.g. 127.0.0.2 to be a different loopback client. */
  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawSmtp> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host, localAddress }, () => resolve(new RawSmtp(s)));
      s.once('error', reject);
    });
  }

  /** The next complete reply (all lines of a multi-line one), or '' if the server closed first. */
  async reply(timeoutMs = 10_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/.exec(this.buffer);
      if (m) {
        this.buffer = this.buffer.slice(m[0].length);
        return m[0].trimEnd();
      }
      if (this.closed) return '';
      if (Date.now() > until) throw new Error(`no reply within ${timeoutMs} ms; buffer: ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }

  /** Sends a command line and returns its reply. */
  async command(line: string): Promise<string> {
    this.socket.write(line + '\r\n');
    return this.reply();
  }

  /** Writes raw bytes, waiting for the socket to drain (no buffering on our side). */
  async write(data: string | Buffer): Promise<void> {
    if (!this.socket.write(data)) await new Promise((r) => this.socket.once('drain', r));
  }

  /** Greeting, EHLO, MAIL, RCPT(s), DATA; returns the replies, stopping at the first failure. */
  async envelope(from: string, to: string[], mailParams = ''): Promise<string[]> {
    const replies = [await this.reply(), await this.command('EHLO client.test')];
    replies.push(await this.command(`MAIL FROM:<${from}>${mailParams}`));
    for (const rcpt of to) replies.push(await this.command(`RCPT TO:<${rcpt}>`));
    return replies;
  }

  close(): void {
    this.socket.destroy();
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
