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
  private stream: fs.WriteStream | null = null;
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

  async close(): Promise<void> {
    const s = this.stream;
    this.stream = null;
    if (s) await new Promise<void>((resolve) => s.end(resolve));
  }

  private append(line: string): void {
    if (!this.file) return;
    if (!this.stream) {
      this.size = statSize(this.file);
      this.stream = fs.createWriteStream(this.file, { flags: 'a', mode: 0o600 });
      this.stream.on('error', () => { this.stream = null; }); // a full disk must not stop the relay
    }
    const bytes = Buffer.byteLength(line);
    if (this.size + bytes > (this.opts.maxBytes ?? 10_000_000) && this.size > 0) this.rotate();
    this.stream?.write(line);
    this.size += bytes;
  }

  private rotate(): void {
    const file = this.file as string;
    this.stream?.end();
    this.stream = null;
    const keep = this.opts.keep ?? 5;
    const name = (i: number) => file.replace(/\.log$/, `.${i}.log`);
    try {
      fs.rmSync(name(keep), { force: true });
      for (let i = keep - 1; i >= 1; i--) if (fs.existsSync(name(i))) fs.renameSync(name(i), name(i + 1));
      fs.renameSync(file, name(1));
    } catch {
      // Windows may refuse while another program has the log open; keep appending and try next time.
    }
    this.size = statSize(file);
    this.stream = fs.createWriteStream(file, { flags: 'a', mode: 0o600 });
    this.stream.on('error', () => { this.stream = null; });
  }
}

function statSize(file: string): number {
  try { return fs.statSync(file).size; } catch { return 0; }
}
