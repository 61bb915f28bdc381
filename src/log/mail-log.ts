// The delivery log admins read the way they `tail -F /var/log/maillog`: one human-readable line per
// event, to stdout (when running in a console) and to logs/relay.log, rotated by size.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

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

/**
 * The line for a message taken into the queue, with every field a search may start from: the queue id,
 * the sender, each recipient (one to= per recipient, as on the delivery lines), the Message-ID.
 *   id=0mgx1k2ab3cdefg from=<app@host> to=<a@x> to=<b@y> message-id=<123@host> size=812 nrcpt=2 client=[127.0.0.1] status=queued
 */
export function receivedLine(m: { id: string; from: string; to: string[]; messageId: string; size: number; client: string }): string {
  const mid = m.messageId ? ` message-id=<${m.messageId}>` : '';
  return `id=${m.id} from=<${m.from}> ${m.to.map((a) => `to=<${a}>`).join(' ')}${mid} size=${m.size} nrcpt=${m.to.length} client=${m.client} status=queued`;
}

/** Lines kept in memory for the settings window's Log page; older ones are read back from relay.log. */
const RECENT_LINES = 1000;
/** How much of relay.log one getLog reads at most, for lines older than those in memory. */
const FILE_TAIL_BYTES = 256 * 1024;

/** A recent line, and where it starts in relay.log (null: not written to the file) in which rotation generation. */
interface KeptLine {
  line: string;
  offset: number | null;
  generation: number;
}

export class MailLog {
  readonly file: string | null;
  private fd: number | null = null;
  private size = 0;
  private readonly secrets = new Set<string>();
  private readonly listeners = new Set<(line: string) => void>();
  private readonly kept: KeptLine[] = [];
  private generation = 0;

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
    this.keep({ line, offset: this.append(line + '\n'), generation: this.generation });
    for (const fn of this.listeners) fn(line);
  }

  info(text: string): void { this.write('info', text); }
  warn(text: string): void { this.write('warning', text); }
  error(text: string): void { this.write('error', text); }

  /**
   * Lines containing `contains` (any case), logged at or before `before` (an ISO time), newest first.
   * The plain "latest lines" come from memory, then the end of relay.log; a search or a page further back
   * reads the whole log, the rotated files too, one line at a time (memory: `limit` lines).
   */
  async recent(query: { contains?: string; limit?: number; before?: string } = {}): Promise<string[]> {
    const limit = query.limit ?? 500;
    const needle = (query.contains ?? '').toLowerCase();
    const before = query.before;
    const wanted = (line: string) => line.toLowerCase().includes(needle) && (before === undefined || line.slice(0, before.length) <= before);
    if (this.file && (needle || before !== undefined)) return this.searchFiles(wanted, limit);
    const out: string[] = [];
    const take = (line: string) => {
      if (out.length < limit && wanted(line)) out.push(line);
    };
    for (let i = this.kept.length - 1; i >= 0; i--) take((this.kept[i] as KeptLine).line);
    if (out.length < limit) for (const line of await this.olderFromFile()) take(line);
    return out;
  }

  /** relay.log, then relay.1.log, relay.2.log …: the newest `limit` lines that match, newest first. */
  private async searchFiles(wanted: (line: string) => boolean, limit: number): Promise<string[]> {
    const file = this.file as string;
    const out: string[] = [];
    for (let i = 0; i <= (this.opts.keep ?? 5) && out.length < limit; i++) {
      const want = limit - out.length;
      const found: string[] = []; // the last `want` matches of this file, oldest first
      const input = fs.createReadStream(i === 0 ? file : rotatedName(file, i));
      try {
        for await (const line of readline.createInterface({ input, crlfDelay: Infinity })) {
          if (!wanted(line)) continue;
          found.push(line);
          if (found.length >= 2 * want) found.splice(0, found.length - want);
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // not rotated that far yet
        throw e;
      } finally {
        input.destroy();
      }
      out.push(...found.slice(-want).reverse());
    }
    return out;
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  /** Memory stays bounded: trimmed in batches so that a line costs O(1) on average. */
  private keep(entry: KeptLine): void {
    this.kept.push(entry);
    if (this.kept.length > RECENT_LINES * 1.25) this.kept.splice(0, this.kept.length - RECENT_LINES);
  }

  /**
   * relay.log's lines before the oldest one in memory (those of earlier runs, or trimmed from memory),
   * newest first, from at most FILE_TAIL_BYTES. None once relay.log has rotated past that line.
   */
  private async olderFromFile(): Promise<string[]> {
    if (!this.file) return [];
    const oldest = this.kept[0];
    let end: number;
    if (oldest) {
      if (oldest.offset === null || oldest.generation !== this.generation) return [];
      end = oldest.offset;
    } else {
      end = await fs.promises.stat(this.file).then((s) => s.size, () => 0);
    }
    if (end === 0) return [];
    const start = Math.max(0, end - FILE_TAIL_BYTES);
    const buffer = Buffer.alloc(end - start);
    const handle = await fs.promises.open(this.file, 'r');
    try {
      await handle.read(buffer, 0, buffer.length, start);
    } finally {
      await handle.close();
    }
    const lines = buffer.toString('utf8').split('\n');
    if (start > 0) lines.shift(); // cut in the middle
    return lines.filter((l) => l !== '').reverse();
  }

  // Synchronous appends: lines stay in order and are on disk (in the page cache) before the caller goes
  // on, which is what someone reading the log after a crash expects. A line costs a few microseconds.
  /** Returns where the line starts in relay.log, or null when it was not written. */
  private append(line: string): number | null {
    if (!this.file) return null;
    const bytes = Buffer.byteLength(line);
    try {
      if (this.fd === null) {
        this.fd = fs.openSync(this.file, 'a', 0o600);
        this.size = fs.fstatSync(this.fd).size;
      }
      if (this.size > 0 && this.size + bytes > (this.opts.maxBytes ?? 10_000_000)) this.rotate();
      fs.writeSync(this.fd as number, line);
      this.size += bytes;
      return this.size - bytes;
    } catch {
      // A full disk or a locked file must not stop the relay; the line still went to stdout/listeners.
      return null;
    }
  }

  private rotate(): void {
    const file = this.file as string;
    fs.closeSync(this.fd as number);
    this.fd = null;
    this.generation++;
    const keep = this.opts.keep ?? 5;
    const name = (i: number) => rotatedName(file, i);
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

/** relay.log's i-th rotation: relay.1.log is the newest. */
function rotatedName(file: string, i: number): string {
  return file.replace(/\.log$/, `.${i}.log`);
}
