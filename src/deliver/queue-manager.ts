// Postfix's qmgr: picks due messages from the spool, hands each to the transport, and writes back what
// happened to every recipient. It holds only the messages being delivered right now (activeLimit), never
// the queue, so memory stays flat however long the queue grows.
import { formatDuration, formatSeconds } from '../config/duration.js';
import type { MailLog } from '../log/mail-log.js';
import type { Entry, QueueEntry, Spool } from '../spool/spool.js';
import type { MessageState, RecipientState } from '../spool/state.js';
import { waitingText, type Waiting } from './conversation.js';
import type { Blocked, DeliveryTransport } from './transport.js';
import type { AttemptOutcome } from './outcome.js';
import { retryDelay } from './retry.js';
import type { SenderRewriter } from '../rewrite/senders.js';

export interface QueueManagerOptions {
  spool: Spool;
  log: MailLog;
  /** Retry steps in ms (parsed delivery.retrySchedule). */
  schedule: number[];
  /** A recipient still deferred this long after arrival fails with 5.4.7 (delivery.maxQueueTime). */
  maxQueueTime: number;
  /** Send one delay warning once a message has waited this long; 0 = never (delivery.delayWarningAfter). */
  delayWarningAfter: number;
  /** Deliveries at once (the smarthost's maxConnections). */
  concurrency: number;
  /** Sender rewriting applied to every delivery (config.rewrite), or null. */
  rewriter: SenderRewriter | null;
  /**
   * Queues a delivery status notification to the message's sender. Called before the state that
   * caused it is committed, so a crash can repeat a notification but never lose one.
   */
  report: (kind: 'failed' | 'delayed', state: MessageState, recipients: RecipientState[]) => Promise<void>;
  /** Makes the transport for the current config and password, or says why it cannot. */
  transport: () => Promise<DeliveryTransport | Blocked>;
  /** Messages the user is changing right now (retry, delete): skipped until released. */
  isClaimed?: (id: string) => boolean;
  /** Called whenever counts, state or the last error change (the tray and UI listen). */
  onChange?: () => void;
}

export interface LastDelivery {
  id: string;
  to: string;
  status: 'sent' | 'deferred' | 'bounced';
  at: number;
  reply: string;
}

/** RelayStatus.stalled: a delivery waiting for its server longer than a minute. */
export interface Stalled {
  destination: string;
  phase: Waiting['phase'];
  sinceSeconds: number;
  /** "smtp.x:587 has not answered for 4 min after the end of data" */
  message: string;
}

/** QueueManager.status(): where delivery stands. */
export interface QueueStatus {
  /** Why delivery is stopped until the user acts (bad password, no smarthost), or null. */
  blocked: Blocked | null;
  paused: boolean;
  /** Deliveries in progress. */
  sending: number;
  lastError: string | null;
  lastDelivery: LastDelivery | null;
  /** The destination refusing connections: since when, why, and until when nothing is tried; null when it is not. */
  unreachable: { since: number; until: number; reason: string; host: string } | null;
  /** When the loop looks at the queue next (the earliest due message it knows of), or null while it is busy or stopped. */
  nextDue: number | null;
}

/** Settings a config change can replace while the relay runs. */
export type QueueSettings = Pick<QueueManagerOptions, 'schedule' | 'maxQueueTime' | 'delayWarningAfter' | 'concurrency' | 'rewriter'>;

/** New mail waiting for its first attempt, in arrival order; beyond this many the scan finds it. */
const FRESH_LIMIT = 10_000;
/** Of those, how many may carry their state in memory (QueueEntry.committed). */
const FRESH_WITH_STATE = 500;

export class QueueManager {
  private readonly active = new Map<string, Promise<void>>();
  /** Newly committed messages, delivered in turn with the scan of older mail (Postfix alternates its
   *  incoming and deferred queues) so that a large backlog does not starve new mail. */
  private readonly fresh: QueueEntry[] = [];
  private slotWaiters: (() => void)[] = [];
  private wakeUp: (() => void) | null = null;
  private woken = false;
  /** Earliest due time learned while the loop was busy (a deferral, a throttle): the next sleep ends by then. */
  private dueHint = Infinity;
  private sleepTarget = Infinity;
  /** When the queue directory must be read again: the earliest due time the last scan saw (at most
   *  30 s on), or 0 once something else may have become due. New mail alone does not need a scan: it
   *  comes through `fresh`. (One scan per arriving message cost ~10 getdents64 and 3 opens a message.) */
  private scanAt = 0;
  private running: Promise<void> | null = null;
  private stopping = false;
  private transport: DeliveryTransport | null = null;
  /** Transports replaced while deliveries were still using them; closed when those end, or at stop. */
  private readonly retired = new Set<DeliveryTransport>();
  private userPaused = false;
  /** Set when delivery cannot proceed until the user acts (bad password, no smarthost). */
  private blocked: Blocked | null = null;
  private lastError: string | null = null;
  private lastDelivery: LastDelivery | null = null;
  /** What a config change can replace (retry schedule, connection limit, rewriting); the rest of opts stays. */
  private settings: QueueSettings;
  /** The destination refused or dropped connections: nothing is tried before this time. */
  private throttledUntil = 0;
  private consecutiveFailures = 0;
  /** Since when, and why, the destination has refused connections (for the health model). */
  private unreachableSince = 0;
  private unreachableReason = '';
  private unreachableHost = '';
  /** Set by flush(): the next pass treats every waiting recipient as due (Postfix's `postqueue -f`). */
  private flushing = false;

  constructor(private readonly opts: QueueManagerOptions) {
    const { schedule, maxQueueTime, delayWarningAfter, concurrency, rewriter } = opts;
    this.settings = { schedule, maxQueueTime, delayWarningAfter, concurrency, rewriter };
  }

  /** Where delivery stands now, for the relay's status and the queue listing. */
  status(): QueueStatus {
    return {
      blocked: this.blocked,
      paused: this.userPaused,
      sending: this.active.size,
      lastError: this.lastError,
      lastDelivery: this.lastDelivery,
      unreachable: this.consecutiveFailures === 0 ? null
        : { since: this.unreachableSince, until: this.throttledUntil, reason: this.unreachableReason, host: this.unreachableHost },
      nextDue: Number.isFinite(this.sleepTarget) ? this.sleepTarget : null,
    };
  }

  /** The last error stops being news once nothing waits any more, unless it is what stops delivery. */
  dismissError(): void {
    if (!this.blocked) this.lastError = null;
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Something became due (retry, resume, new config): scan now rather than at the next tick. */
  wake(): void {
    this.scanAt = 0;
    this.runSoon();
  }

  /** Another pass of the loop, with or without a scan (scanAt says). */
  private runSoon(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  pause(): void {
    this.userPaused = true;
    this.changed();
  }

  resume(): void {
    this.userPaused = false;
    this.unblock();
  }

  /** Try every waiting message now, whatever its schedule says. */
  flush(): void {
    this.flushing = true;
    this.unblock();
  }

  /** New retry schedule or connection limit from a changed config; also lifts any block. */
  configure(settings: QueueSettings): void {
    this.settings = settings;
    this.renewTransport();
  }

  /** A message was just committed: it goes out in turn with the backlog, first-come. */
  enqueueFresh(e: QueueEntry): void {
    // The first ones keep the state the spool committed (no read back from disk); beyond that, memory wins.
    if (this.fresh.length >= FRESH_WITH_STATE) e = { ...e, committed: undefined };
    if (this.fresh.length < FRESH_LIMIT) {
      this.fresh.push(e);
      this.runSoon();
    } else this.wake();
  }

  /** Lift a block or throttle (the user said retry, or resumed) and scan again. */
  unblock(): void {
    this.blocked = null;
    this.throttledUntil = 0;
    this.consecutiveFailures = 0;
    this.changed();
    this.wake();
  }

  /** Config or password changed: new deliveries use a new transport; ones in flight finish on the old. */
  renewTransport(): void {
    this.retireTransport();
    this.unblock();
  }

  private retireTransport(): void {
    const old = this.transport;
    this.transport = null;
    if (!old) return;
    this.retired.add(old);
    void Promise.allSettled([...this.active.values()]).then(() => {
      if (this.retired.delete(old)) return old.close();
    });
  }

  /**
   * Stops taking new work and waits up to graceMs for deliveries in flight; then closes the transport,
   * which ends the rest as deferred. Every message is left in a consistent, retryable state.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.wake();
    for (const w of this.slotWaiters.splice(0)) w();
    const inflight = Promise.allSettled([...this.active.values()]);
    const timedOut = await Promise.race([inflight.then(() => false), sleep(graceMs).then(() => true)]);
    if (timedOut) this.opts.log.warn(`stop: ${this.active.size} deliveries still running after ${graceMs} ms; abandoning them (they will be retried)`);
    for (const t of this.retired) await t.close(true);
    this.retired.clear();
    await this.dropTransport(true);
    await Promise.race([inflight, sleep(5000)]);
    await this.running;
  }

  /** The delivery the server has kept waiting longest, if that is more than `afterMs`; else null. */
  stalled(afterMs: number, now = Date.now()): Stalled | null {
    const all = [this.transport, ...this.retired].flatMap((t) => t?.waiting?.() ?? []);
    const longest = all.reduce<Waiting | null>((a, w) => (a === null || w.since < a.since ? w : a), null);
    if (!longest || now - longest.since <= afterMs) return null;
    return { destination: longest.destination, phase: longest.phase, sinceSeconds: Math.floor((now - longest.since) / 1000), message: waitingText(longest, now) };
  }

  /** True while a message is being delivered (its state must not be changed from outside). */
  isActive(id: string): boolean {
    return this.active.has(id);
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      this.woken = false;
      let nextDue = Date.now() + 30_000;
      if (!this.userPaused && !this.blocked) {
        const now = Date.now();
        if (this.throttledUntil > now) nextDue = this.throttledUntil;
        else {
          const horizon = this.flushing ? Infinity : now;
          this.flushing = false;
          try {
            if (now >= this.scanAt || horizon === Infinity) {
              this.scanAt = Infinity; // a wake() during the scan asks for the next one
              const scanned = Math.min(await this.opts.spool.scanDue(horizon, (e) => this.admitInTurn(e, horizon)), Date.now() + 30_000);
              this.scanAt = Math.min(this.scanAt, scanned);
            }
            nextDue = Math.min(nextDue, this.scanAt);
            while (this.fresh.length > 0 && this.canAdmit()) await this.admit(this.fresh.shift() as QueueEntry, Date.now());
          } catch (e) {
            this.fail(`queue scan failed: ${(e as Error).message}`);
            nextDue = Date.now() + 5000;
          }
        }
      }
      // Deliveries that ended during the pass may have set a due time the scan did not see.
      nextDue = Math.min(nextDue, this.dueHint);
      this.dueHint = Infinity;
      if (!this.woken && !this.stopping) await this.sleepUntil(nextDue);
    }
  }

  /** Each entry of the scan goes after one new message, if one waits. */
  private async admitInTurn(e: Entry, horizon: number): Promise<void> {
    if (this.fresh.length > 0) await this.admit(this.fresh.shift() as QueueEntry, Date.now());
    await this.admit(e, horizon);
  }

  /** A due message was passed over (paused, throttled, claimed): the next pass scans to find it again. */
  private skipped(): void {
    this.scanAt = 0;
  }

  private canAdmit(): boolean {
    return !this.stopping && !this.userPaused && !this.blocked && this.throttledUntil <= Date.now();
  }

  private async admit(e: Entry, horizon: number): Promise<void> {
    if (this.active.has(e.id)) return;
    if (this.opts.isClaimed?.(e.id) || !this.canAdmit()) return this.skipped();
    while (this.active.size >= this.settings.concurrency && !this.stopping) await new Promise<void>((r) => this.slotWaiters.push(r));
    if (this.active.has(e.id)) return;
    if (!this.canAdmit() || this.opts.isClaimed?.(e.id)) return this.skipped();
    const job = this.deliver(e, horizon).finally(() => {
      this.active.delete(e.id);
      this.slotWaiters.shift()?.();
      this.changed();
    });
    this.active.set(e.id, job);
    this.changed();
  }

  private async deliver(e: Entry, horizon: number): Promise<void> {
    try {
      const state = await this.opts.spool.load(e);
      if (!state) return;
      const dueBy = Math.max(horizon, Date.now());
      const due = state.rcpts.filter((r) => (r.st === 'q' || r.st === 'd') && r.next <= dueBy);
      if (due.length === 0) return;
      const transport = await this.getTransport();
      if (!transport) return;
      const started = Date.now();
      const rw = this.settings.rewriter;
      const envelope = { from: rw ? rw.envelope(state.from) : state.from, to: due.map((r) => r.a), eightBit: state.eightBit === true, smtputf8: state.smtputf8 === true };
      const outcome = await transport.send({ envelope, contentPath: this.opts.spool.contentPath(state.id), size: state.size, rewriteHeaders: rw?.headers });
      if (outcome.authFailure) {
        // A configuration problem, not the message's: it keeps its place and its retries.
        const why = outcome.recipients.find((r) => r.verdict !== 'sent')?.response ?? '';
        this.block({ state: 'auth-failed', reason: outcome.loginWithheld ? `${outcome.relay}: ${why}` : `authentication failed at ${outcome.relay}: ${why}` });
        return;
      }
      if (outcome.destinationFailure) this.throttle(outcome);
      else this.consecutiveFailures = 0;
      const reports = this.applyOutcome(state, outcome, started);
      for (const [kind, recipients] of reports) await this.opts.report(kind, state, recipients);
      const next = await this.opts.spool.update(e, state);
      if (next?.kind === 'queue') this.wakeBy(next.due);
      if (outcome.maybeDelivered) this.opts.log.warn(`id=${state.id} conversation with ${outcome.relay} lost after the end of data: message may be sent more than once`);
    } catch (err) {
      this.skipped(); // still due: found again by the next scan
      this.fail(`id=${e.id} delivery error: ${(err as Error).message}`);
      await sleep(1000); // an I/O error on the spool should not spin
    }
  }

  /**
   * Writes one attempt's result into the message state, recipient by recipient, and returns the
   * notifications it calls for: a failure report for recipients that failed for good (a 5xx, or
   * expiry), a delay warning once the message has waited delayWarningAfter.
   */
  private applyOutcome(state: MessageState, outcome: AttemptOutcome, started: number): [kind: 'failed' | 'delayed', RecipientState[]][] {
    const now = Date.now();
    const { schedule, maxQueueTime, delayWarningAfter } = this.settings;
    const expires = state.created + maxQueueTime;
    const failed: RecipientState[] = [];
    for (const o of outcome.recipients) {
      const r = state.rcpts.find((x) => x.a === o.address && (x.st === 'q' || x.st === 'd'));
      if (!r) continue;
      r.n++;
      r.at = now;
      r.relay = o.relay ?? outcome.relay;
      r.resp = o.response.slice(0, 512);
      if (o.code !== undefined) r.code = o.code; else delete r.code;
      if (o.enhanced !== undefined) r.esc = o.enhanced; else delete r.esc;
      r.st = o.verdict === 'sent' ? 's' : o.verdict === 'failed' ? 'f' : 'd';
      if (r.st === 'd') {
        if (now >= expires) {
          // RFC 5321 §4.5.4.1: give up after the configured lifetime; the last reply says why.
          r.st = 'f';
          r.esc = '5.4.7';
          r.resp = `${r.resp} (gave up: still undeliverable after ${formatDuration(maxQueueTime)}, delivery.maxQueueTime)`.slice(0, 512);
        } else if (outcome.destinationFailure) {
          // The smarthost's fault, not the message's: wait for the destination, keep the retry step.
          r.next = Math.min(this.throttledUntil, expires);
        } else {
          r.retry = (r.retry ?? 0) + 1;
          r.next = Math.min(now + retryDelay(schedule, r.retry), expires);
        }
      }
      if (r.st === 'f') failed.push(r);
      const status = r.st === 'f' ? 'bounced' : r.st === 's' ? 'sent' : 'deferred';
      const line = `id=${state.id} to=<${o.address}> relay=${r.relay} delay=${formatSeconds(now - state.created)} delays=${formatSeconds(now - started)} attempts=${r.n} status=${status} (${r.resp})`;
      if (status === 'sent') this.opts.log.info(line); else this.opts.log.warn(line);
      this.lastDelivery = { id: state.id, to: o.address, status, at: now, reply: r.resp };
      if (status !== 'sent') this.lastError = `${o.address}: ${r.resp}`;
    }
    const reports: [kind: 'failed' | 'delayed', RecipientState[]][] = [];
    if (state.from === '') {
      if (failed.length) this.opts.log.warn(`id=${state.id} from=<> ${failed.length} recipient(s) failed: no notification is sent for a message from the null sender`);
      return reports;
    }
    if (failed.length) reports.push(['failed', failed]);
    const waiting = state.rcpts.filter((r) => r.st === 'd');
    if (delayWarningAfter > 0 && !state.warned && waiting.length && now - state.created >= delayWarningAfter) {
      state.warned = true;
      reports.push(['delayed', waiting]);
    }
    return reports;
  }

  private throttle(outcome: AttemptOutcome): void {
    if (this.consecutiveFailures === 0) this.unreachableSince = Date.now();
    this.unreachableReason = outcome.recipients[0]?.response ?? 'no reply';
    this.unreachableHost = outcome.relay;
    this.consecutiveFailures++;
    const wait = retryDelay(this.settings.schedule, this.consecutiveFailures);
    this.throttledUntil = Date.now() + wait;
    this.wakeBy(this.throttledUntil);
    this.retireTransport(); // the next attempt resolves the smarthost's name again
    this.opts.log.warn(`relay=${outcome.relay} unreachable (${outcome.recipients[0]?.response ?? 'no reply'}); next try in ${formatSeconds(wait)} s`);
  }

  private async getTransport(): Promise<DeliveryTransport | null> {
    if (this.transport) return this.transport;
    const made = await this.opts.transport();
    if ('send' in made) return (this.transport = made);
    this.block(made);
    return null;
  }

  private block(b: Blocked): void {
    if (this.blocked?.reason === b.reason) return;
    this.blocked = b;
    this.lastError = b.reason;
    this.opts.log.error(`delivery stopped: ${b.reason}`);
    void this.dropTransport();
    this.changed();
  }

  private fail(message: string): void {
    this.lastError = message;
    this.opts.log.error(message);
    this.changed();
  }

  private async dropTransport(force = false): Promise<void> {
    const t = this.transport;
    this.transport = null;
    await t?.close(force);
  }

  private changed(): void {
    this.opts.onChange?.();
  }

  /** Something becomes due at t (a deferred message, the end of a throttle): make sure the loop looks then. */
  private wakeBy(t: number): void {
    this.scanAt = Math.min(this.scanAt, t);
    if (t < this.sleepTarget && this.wakeUp) this.wakeUp(); // asleep for longer: look again now, then sleep less
    else this.dueHint = Math.min(this.dueHint, t);
  }

  private sleepUntil(t: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        this.sleepTarget = Infinity;
        resolve();
      };
      this.sleepTarget = t;
      const timer = setTimeout(done, Math.max(0, Math.min(t - Date.now(), 30_000)));
      this.wakeUp = done;
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
