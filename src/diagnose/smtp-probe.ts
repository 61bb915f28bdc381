// A bare SMTP client for diagnosis: one socket, one command at a time, every reply kept verbatim.
// nodemailer hides the steps (it connects, upgrades and logs in as one call); test-connection must
// show which step failed and what the server said at that step.
import net from 'node:net';
import tls from 'node:tls';

export interface Reply {
  code: number;
  /** All lines, joined with "\n", as the server sent them. */
  text: string;
}

export class SmtpProbe {
  private buffer = '';
  private waiting: (() => void) | null = null;
  private closed: Error | null = null;

  private constructor(private socket: net.Socket, private readonly timeoutMs: number) {
    this.listen();
  }

  /** Connects (with implicit TLS when `secure` is given); rejects on failure or after timeoutMs. */
  static async connect(address: string, port: number, timeoutMs: number, secure?: tls.ConnectionOptions): Promise<SmtpProbe> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = secure ? tls.connect({ ...secure, host: address, port }) : net.connect({ host: address, port });
      const timer = setTimeout(() => { s.destroy(); reject(new Error(`connect ETIMEDOUT ${address}:${port} (no answer in ${timeoutMs / 1000} s)`)); }, timeoutMs);
      s.once(secure ? 'secureConnect' : 'connect', () => { clearTimeout(timer); resolve(s); });
      s.once('error', (e) => { clearTimeout(timer); reject(e); });
    });
    return new SmtpProbe(socket, timeoutMs);
  }

  get tlsSocket(): tls.TLSSocket | null {
    return this.socket instanceof tls.TLSSocket ? this.socket : null;
  }

  /** The next complete reply; rejects when the server closes or says nothing for timeoutMs. */
  async reply(): Promise<Reply> {
    const until = Date.now() + this.timeoutMs;
    for (;;) {
      const m = /^(?:(\d{3})-[^\n]*\n)*(\d{3})(?: [^\n]*)?\r?\n/.exec(this.buffer);
      if (m) {
        this.buffer = this.buffer.slice(m[0].length);
        return { code: Number(m[2]), text: m[0].replace(/\r/g, '').trimEnd() };
      }
      if (this.closed) throw this.closed;
      const left = until - Date.now();
      if (left <= 0) throw new Error(`timed out: no reply from the server in ${this.timeoutMs / 1000} s`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiting = () => { clearTimeout(t); resolve(); };
      });
    }
  }

  async command(line: string): Promise<Reply> {
    this.socket.write(line + '\r\n');
    return this.reply();
  }

  /** Upgrades the connection after a 220 to STARTTLS; returns the TLS socket for inspection. */
  async startTls(options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
    this.socket.removeAllListeners('data');
    const secured = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ ...options, socket: this.socket });
      const timer = setTimeout(() => { s.destroy(); reject(new Error('timed out during the TLS handshake')); }, this.timeoutMs);
      s.once('secureConnect', () => { clearTimeout(timer); resolve(s); });
      s.once('error', (e) => { clearTimeout(timer); reject(e); });
    });
    this.socket = secured;
    this.buffer = '';
    this.listen();
    return secured;
  }

  close(): void {
    if (!this.closed) this.socket.end('QUIT\r\n');
    this.socket.destroy();
  }

  private listen(): void {
    // Decoded by hand, not with setEncoding: the raw socket may still be handed to TLS.
    this.socket.on('data', (d: Buffer) => { this.buffer += d.toString('latin1'); this.waiting?.(); });
    this.socket.on('close', () => { this.closed ??= new Error('the server closed the connection'); this.waiting?.(); });
    this.socket.on('error', (e) => { this.closed = e; this.waiting?.(); });
  }
}
