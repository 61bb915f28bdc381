// The delivery log admins read the way they `tail -F /var/log/maillog`: one human-readable line per
// event, to stderr (when running in a console) and to logs/relay.log, rotated by size.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

export interface MailLogOptions {
  /** Folder for relay.log and its rotations; null for no file. */
  dir: string | null;
  /** Echo each line to stderr (the CLI's `run`, whose stdout carries only its `listening on` line). */
  console?: boolean;
  /** Rotate when relay.log reaches this size (default 10 MB), keeping `keep` old files (default 5). */
  maxBytes?: number;
  keep?: number;
  /** Renames a file (tests inject failures here); fs.renameSync if unset. */
  rename?: (from: string, to: string) => void;
}

export type LogLevel = 'info' | 'warning' | 'error';

/** Control characters (C0, DEL, C1) and the Unicode marks that reorder text on screen. */
const CONTROL = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * Text from outside (an upstream's reply, a client's name) made safe for a terminal and one line: line
 * ends and tabs become a space, every other control character its escape (ESC -> \x1b, U+202E ->
 * \u202e), so nothing can move the cursor or rewrite an admin's `tail -F`.
 */
export function printable(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').replace(CONTROL, (c) => {
    const code = c.codePointAt(0) as number;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * The line for a message taken into the queue, with every field a search may start from: the queue id,
 * the sender, each recipient (one to= per recipient, as on the delivery lines), the Message-ID.
 *   id=0mgx1k2ab3cdefg from=<app@host> to=<a@x> to=<b@y> message-id=<123@host> size=812 nrcpt=2 client=[127.0.0.1] commit=0.004 status=queued
 */
export function receivedLine(m: { id: string; from: string; to: string[]; messageId: string; size: number; client: string; commitSeconds?: number }): string {
  const mid = m.messageId ? ` message-id=<${m.messageId}>` : '';
  // commit= is the time from the final dot to the 250 (the durable write): the accept latency.
  return `id=${m.id} from=<${m.from}> ${m.to.map((a) => `to=<${a}>`).join(' ')}${mid} size=${m.size} nrcpt=${m.to.length} client=${m.client}${m.commitSeconds === undefined ? '' : ` commit=${m.commitSeconds.toFixed(3)}`} status=queued`;
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
  /** Size of relay.log at which a rotation that failed is tried again (0: at maxBytes). */
  private rotateAgainAt = 0;
  private writeProblem: string | null = null;
  private rotateProblem: string | null = null;

  constructor(private readonly opts: MailLogOptions) {
    this.file = opts.dir ? path.join(opts.dir, 'relay.log') : null;
    if (opts.dir) fs.mkdirSync(opts.dir, { recursive: true });
  }

  /** Why relay.log cannot be written or rotated right now, for a status to show; null while it can. */
  get problem(): string | null {
    return this.writeProblem ?? this.rotateProblem;
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
    let clean = printable(text);
    for (const s of this.secrets) clean = clean.split(s).join('*****');
    const line = `${new Date().toISOString()} ${level} ${clean}`;
    if (this.opts.console) process.stderr.write(line + '\n');
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
      const maxBytes = this.opts.maxBytes ?? 10_000_000;
      if (this.size > 0 && this.size + bytes > Math.max(maxBytes, this.rotateAgainAt)) this.rotate(maxBytes);
      fs.writeSync(this.fd, line);
      this.size += bytes;
      this.writeProblem = null;
      return this.size - bytes;
    } catch (e) {
      // A full disk or a locked file must not stop the relay; the line still went to stderr/listeners.
      this.writeProblem = `relay.log cannot be written: ${(e as Error).message}`;
      return null;
    }
  }

  private rotate(maxBytes: number): void {
    const file = this.file as string;
    fs.closeSync(this.fd as number);
    this.fd = null;
    const keep = this.opts.keep ?? 5;
    const name = (i: number) => rotatedName(file, i);
    const rename = this.opts.rename ?? fs.renameSync;
    // Windows refuses a rename while another program (an editor, an antivirus scan) has the file open.
    // So relay.log first moves aside to relay.0.log, before anything else changes; then the old logs
    // move up only as far as the first gap, the oldest being deleted only when there is none. A
    // rotation that fails half-way is finished by the next attempt, and never costs another log.
    try {
      if (!fs.existsSync(name(0))) {
        rename(file, name(0));
        this.generation++;
      }
      let free = 1;
      while (free <= keep && fs.existsSync(name(free))) free++;
      if (free > keep) {
        fs.rmSync(name(keep), { force: true });
        free = keep;
      }
      for (let i = free - 1; i >= 1; i--) rename(name(i), name(i + 1));
      rename(name(0), name(1));
      this.rotateAgainAt = 0;
      this.rotateProblem = null;
    } catch (e) {
      // Keep appending to relay.log; try again once it has grown by another tenth of the limit.
      this.rotateAgainAt = this.size + maxBytes / 10;
      this.rotateProblem = `relay.log could not be rotated: ${(e as Error).message}`;
    }
    this.fd = fs.openSync(file, 'a', 0o600);
    this.size = fs.fstatSync(this.fd).size;
  }
}

/** relay.log's i-th rotation: relay.1.log is the newest. */
function rotatedName(file: string, i: number): string {
  return file.replace(/\.log$/, `.${i}.log`);
}
