// The delivery log admins read the way they `tail -F /var/log/maillog`: one human-readable line per
// event, to stdout (when running in a console) and to logs/relay.log, rotated by size.
import fs from 'node:fs';
import path from 'node:path';

export interface MailLogOptions {
  /** Folder for relay.log and its rotations; null for no file. */
  dir: string | null;
  /** Echo each line to stdout (the CLI's `run`). */
  stdout?: boolean;
  /** Rotate when relay.log reaches this size (default 10 MB), keeping `keep` old files (default 5). */
  maxBytes?: number;
  keep?: number;
}

export type LogLevel = 'info' | 'warning' | 'error';

export class MailLog {
  readonly file: string | null;
  private fd: number | null = null;
  private size = 0;
  private readonly secrets = new Set<string>();
  private readonly listeners = new Set<(line: string) => void>();

  constructor(private readonly opts: MailLogOptions) {
    this.file = opts.dir ? path.join(opts.dir, 'relay.log') : null;
    if (opts.dir) fs.mkdirSync(opts.dir, { recursive: true });
  }

  /** Registers a secret that must never reach a log line, whatever code path tries to print it. */
  redact(secret: string | null | undefined): void {
    if (secret && secret.length >= 4) this.secrets.add(secret);
  }

  /** Calls fn with every line written (for status events and the UI's live log). */
  onLine(fn: (line: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  write(level: LogLevel, text: string): void {
    let clean = text.replace(/[\r\n]+/g, ' ');
    for (const s of this.secrets) clean = clean.split(s).join('*****');
    const line = `${new Date().toISOString()} ${level} ${clean}`;
    if (this.opts.stdout) process.stdout.write(line + '\n');
    this.append(line + '\n');
    for (const fn of this.listeners) fn(line);
  }

  info(text: string): void { this.write('info', text); }
  warn(text: string): void { this.write('warning', text); }
  error(text: string): void { this.write('error', text); }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  // Synchronous appends: lines stay in order and are on disk (in the page cache) before the caller goes
  // on, which is what someone reading the log after a crash expects. A line costs a few microseconds.
  private append(line: string): void {
    if (!this.file) return;
    const bytes = Buffer.byteLength(line);
    try {
      if (this.fd === null) {
        this.fd = fs.openSync(this.file, 'a', 0o600);
        this.size = fs.fstatSync(this.fd).size;
      }
      if (this.size > 0 && this.size + bytes > (this.opts.maxBytes ?? 10_000_000)) this.rotate();
      fs.writeSync(this.fd as number, line);
      this.size += bytes;
    } catch {
      // A full disk or a locked file must not stop the relay; the line still went to stdout/listeners.
    }
  }

  private rotate(): void {
    const file = this.file as string;
    fs.closeSync(this.fd as number);
    this.fd = null;
    const keep = this.opts.keep ?? 5;
    const name = (i: number) => file.replace(/\.log$/, `.${i}.log`);
    try {
      fs.rmSync(name(keep), { force: true });
      for (let i = keep - 1; i >= 1; i--) if (fs.existsSync(name(i))) fs.renameSync(name(i), name(i + 1));
      fs.renameSync(file, name(1));
    } catch {
      // Windows may refuse while another program has the log open; keep appending and try next time.
    }
    this.fd = fs.openSync(file, 'a', 0o600);
    this.size = fs.fstatSync(this.fd).size;
  }
}
