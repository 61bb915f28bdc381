// Where each outbound SMTP conversation stands, and how long the server has kept it waiting there
// (RFC 5321 §4.5.3.2). nodemailer has one idle timeout for the whole conversation (10 minutes, the
// longest phase), so a server that goes silent after 354 or after the final dot holds a delivery slot
// for 10 minutes, unseen. Here every phase gets its own limit, and the status can show a delivery that
// waits: "smtp.x:587 has not answered for 4 min after the end of data".
//
// The phase is read from nodemailer's transaction log (commands and replies, never the message):
// the pool logs "send" with our Message-ID just before it sends MAIL FROM on the connection that
// carries the message, which ties that connection's id to our delivery.
import { randomUUID } from 'node:crypto';
import { ehloExtensions, refusal, transactionLogger, type MessageNeeds } from './extensions.js';
import type { AttemptOutcome } from './outcome.js';

/** What the conversation waits for. */
export type Phase = 'connect' | 'mail' | 'rcpt' | 'data' | 'message' | 'end-of-data';

/**
 * How long the server may keep each phase waiting. RFC 5321 §4.5.3.2: greeting 5 min, MAIL 5 min,
 * RCPT 5 min, DATA 2 min, each data block 3 min, the final dot 10 min. "connect" covers everything
 * before MAIL FROM (TCP, greeting, EHLO, STARTTLS, AUTH); the connection and greeting also have
 * nodemailer's own 30 s limits.
 */
export const PHASE_LIMITS: Record<Phase, number> = {
  connect: 5 * 60_000, mail: 5 * 60_000, rcpt: 5 * 60_000, data: 2 * 60_000, message: 3 * 60_000, 'end-of-data': 10 * 60_000,
};

const PHASE_TEXT: Record<Phase, string> = {
  connect: 'before MAIL FROM (connection, greeting, EHLO, TLS or login)',
  mail: 'after MAIL FROM',
  rcpt: 'after RCPT TO',
  data: 'after DATA',
  message: 'while taking the message',
  'end-of-data': 'after the end of data',
};

/** A delivery kept waiting: what RelayStatus.stalled shows. */
export interface Waiting {
  /** The server, "smtp.office365.com:587" (MX: "mx.example.com[192.0.2.1]:25"). */
  destination: string;
  phase: Phase;
  /** Since when (ms) the server has said nothing while the relay waits for it. */
  since: number;
}

export function waitingText(w: Waiting, now = Date.now()): string {
  const s = Math.floor((now - w.since) / 1000);
  const span = s >= 120 ? `${Math.floor(s / 60)} min` : `${s} s`;
  return `${w.destination} has not answered for ${span} ${PHASE_TEXT[w.phase]}`;
}

interface LogEntry {
  tnx?: string;
  sid?: string;
  messageId?: string;
}

/** One delivery's conversation; `signal` aborts it when a phase outlasts its limit. */
export class Conversation {
  phase: Phase = 'connect';
  since = Date.now();
  /** Replies the server owes, oldest first (PIPELINING sends MAIL, RCPT and DATA at once). */
  readonly owed: Phase[] = [];
  /** Why it was aborted: the phase that timed out. */
  timedOut: string | null = null;
  /** Why it was aborted: the server lacks an extension the message needs (extensions.ts). */
  refused: AttemptOutcome | null = null;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly token: string, readonly destination: string, readonly needs: MessageNeeds, private readonly limits: Record<Phase, number>) {
    this.arm();
  }

  /** Ends the conversation before its MAIL FROM leaves: the server cannot take the message as it is. */
  refuse(outcome: AttemptOutcome): void {
    this.refused = outcome;
    this.end();
    this.controller.abort(new Error(outcome.recipients[0]?.response ?? 'refused'));
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  waiting(): Waiting {
    return { destination: this.destination, phase: this.phase, since: this.since };
  }

  /** The server answered, or we sent something that starts a phase: the clock restarts. */
  progress(phase: Phase): void {
    this.phase = phase;
    this.since = Date.now();
    this.arm();
  }

  /** A block of the message was taken: the 3-minute clock of the data phase restarts. */
  taken(): void {
    if (this.phase === 'message') this.progress('message');
  }

  end(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = `timed out: ${waitingText(this.waiting())} (limit ${this.limits[this.phase] / 1000} s, RFC 5321 §4.5.3.2)`;
      this.controller.abort(new Error(this.timedOut));
    }, this.limits[this.phase]);
    this.timer.unref();
  }
}

const COMMAND_PHASE: [RegExp, Phase][] = [[/^MAIL FROM/i, 'mail'], [/^RCPT TO/i, 'rcpt'], [/^DATA$/i, 'data']];

/** The conversations of one transport, fed by its nodemailer logger. */
export class Conversations {
  private readonly byToken = new Map<string, Conversation>();
  private readonly bySid = new Map<string, Conversation>();
  /** Each connection's EHLO: asked (null) or answered (what it announces), until the connection closes. */
  private readonly ehlo = new Map<string, Set<string> | null>();
  /** The delivery whose "send" line was just logged: its MAIL FROM comes next, in the same tick. */
  private next: Conversation | null = null;
  private readonly limits: Record<Phase, number>;

  constructor(limits: Partial<Record<Phase, number>> = {}) {
    this.limits = { ...PHASE_LIMITS, ...limits };
  }

  /** nodemailer's `logger` option (with `transactionLog: true`). */
  readonly logger = transactionLogger((entry, message) => this.observe(entry, message));

  start(destination: string, needs: MessageNeeds): Conversation {
    const token = `<${randomUUID()}@smtp-relay-tray>`;
    const c = new Conversation(token, destination, needs, this.limits);
    this.byToken.set(token, c);
    return c;
  }

  finish(c: Conversation): void {
    c.end();
    this.byToken.delete(c.token);
    for (const [sid, x] of this.bySid) if (x === c) this.bySid.delete(sid);
    if (this.next === c) this.next = null;
  }

  waiting(): Waiting[] {
    return [...this.byToken.values()].map((c) => c.waiting());
  }

  private observe(entry: LogEntry, message: string): void {
    if (entry.tnx === 'send' && entry.messageId) {
      this.next = this.byToken.get(entry.messageId) ?? null;
      return;
    }
    if (!entry.sid) return;
    let c = this.bySid.get(entry.sid);
    if (entry.tnx === 'network' && message === 'Connection closed') this.ehlo.delete(entry.sid);
    if (entry.tnx === 'client' && /^EHLO\b/i.test(message)) this.ehlo.set(entry.sid, null);
    if (entry.tnx === 'server' && this.ehlo.has(entry.sid) && this.ehlo.get(entry.sid) === null && /^250/.test(message)) {
      this.ehlo.set(entry.sid, ehloExtensions(message));
      return;
    }
    if (entry.tnx === 'client') {
      if (!c && this.next && /^MAIL FROM/i.test(message)) {
        c = this.next;
        this.next = null;
        this.bySid.set(entry.sid, c);
        // nodemailer writes the command right after logging it: refusing now closes the connection first.
        const refused = refusal(c.needs, this.ehlo.get(entry.sid) ?? null, c.destination);
        if (refused) return c.refuse(refused);
      }
      const phase = COMMAND_PHASE.find(([re]) => re.test(message))?.[1];
      if (!c || !phase) return;
      c.owed.push(phase);
      if (c.owed.length === 1) c.progress(phase);
    } else if (c && entry.tnx === 'server') {
      c.owed.shift();
      // 354: the message goes out; otherwise the next reply owed is awaited.
      c.progress(/^354/.test(message) ? 'message' : c.owed[0] ?? c.phase);
    } else if (c && entry.tnx === 'message') {
      // The data stream ended: the final dot is on its way.
      c.owed.push('end-of-data');
      c.progress('end-of-data');
    }
  }
}
