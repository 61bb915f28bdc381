// `smtp-relay check`: the relay's state as a monitoring plugin (Nagios plugin API, as OP5, Nagios,
// Icinga, Naemon and NSClient++ run it): one line of text with performance data, and the exit code
// 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Pure: the command gathers the status, this judges it.
import type { RelayStatus } from '../api/contract.js';
import { formatAge } from '../tray/age.js';

export const CHECK_CODES = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;
export type CheckState = keyof typeof CHECK_CODES;

export interface CheckOptions {
  /** The oldest waiting message older than this is a WARNING (ms). */
  warnAgeMs: number;
  /** … and older than this a CRITICAL (ms). */
  critAgeMs: number;
  /** This many waiting messages or more is a WARNING; null = no limit. */
  warnQueue: number | null;
  critQueue: number | null;
}

export interface CheckResult {
  code: 0 | 1 | 2 | 3;
  line: string;
}

/**
 * Judges a relay status. `status` null means no relay answered and no spool could be read. Every
 * problem found is named, worst first, so one line tells the admin all that is wrong.
 */
export function evaluateCheck(status: RelayStatus | null, opts: CheckOptions): CheckResult {
  const problems: [CheckState, string][] = [];
  const s = status;
  if (!s || s.state === 'stopped') problems.push(['CRITICAL', 'relay not running']);
  if (s?.state === 'auth-failed') problems.push(['CRITICAL', `sign-in failed${reason(s)}`]);
  if (s && s.oldestQueuedSeconds !== null) {
    const ageMs = s.oldestQueuedSeconds * 1000;
    const limit = ageMs > opts.critAgeMs ? ['CRITICAL', opts.critAgeMs] as const : ageMs > opts.warnAgeMs ? ['WARNING', opts.warnAgeMs] as const : null;
    // The reason is said once: with the sign-in failure when there is one.
    if (limit) problems.push([limit[0], `oldest waiting message is ${formatAge(s.oldestQueuedSeconds)} old (limit ${formatAge(limit[1] / 1000)})${s.state === 'auth-failed' ? '' : reason(s)}`]);
  }
  if (s) {
    const over = opts.critQueue !== null && s.queued >= opts.critQueue ? ['CRITICAL', opts.critQueue] as const
      : opts.warnQueue !== null && s.queued >= opts.warnQueue ? ['WARNING', opts.warnQueue] as const : null;
    if (over) problems.push([over[0], `${s.queued} messages waiting (limit ${over[1]})`]);
    if (s.failed > 0) problems.push(['WARNING', `${s.failed} failed message${s.failed === 1 ? '' : 's'} kept (see smtp-relay queue list)`]);
    if (s.state === 'unconfigured') problems.push(['WARNING', `not set up${reason(s)}`]);
    if (s.state === 'paused') problems.push(['WARNING', 'delivery paused by the user']);
  }
  problems.sort((a, b) => CHECK_CODES[b[0]] - CHECK_CODES[a[0]]);
  const state: CheckState = problems[0]?.[0] ?? 'OK';
  const words = problems.length ? problems.map((p) => p[1]).join('; ') : okText(s as RelayStatus);
  return { code: CHECK_CODES[state], line: `SMTP RELAY ${state} - ${words} | ${perfdata(s, opts)}` };
}

/** A plugin that could not look: exit 3, with why. */
export function unknownCheck(why: string): CheckResult {
  return { code: CHECK_CODES.UNKNOWN, line: `SMTP RELAY UNKNOWN - ${oneLine(why)}` };
}

function okText(s: RelayStatus): string {
  if (s.queued === 0) return `running, queue empty${s.listening ? `, listening on ${s.listening}` : ''}`;
  return `running, ${s.queued} waiting${s.oldestQueuedSeconds !== null ? `, oldest ${formatAge(s.oldestQueuedSeconds)}` : ''}`;
}

function reason(s: RelayStatus): string {
  // The health model says since when a smarthost has refused connections, and why.
  if (s.health?.state === 'smarthost-unreachable') return `: ${oneLine(s.health.cause)}`;
  return s.lastError ? `: ${oneLine(s.lastError)}` : '';
}

/** The output is one line and `|` starts the performance data: neither may come from a reply text. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/\|/g, '/').trim();
}

function perfdata(s: RelayStatus | null, o: CheckOptions): string {
  const limit = (n: number | null) => (n === null ? '' : String(n));
  return [
    `queued=${s?.queued ?? 0};${limit(o.warnQueue)};${limit(o.critQueue)};0`,
    `deferred=${s?.deferred ?? 0};;;0`,
    `failed=${s?.failed ?? 0};;;0`,
    `oldest=${s?.oldestQueuedSeconds ?? 0}s;${Math.floor(o.warnAgeMs / 1000)};${Math.floor(o.critAgeMs / 1000)};0`,
  ].join(' ');
}
