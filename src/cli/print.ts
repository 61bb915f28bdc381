// What `status`, `queue list|show` and `send-test` print: the health model's words, counts with their
// plurals, and the action that fixes a problem as the command to type.
import { RelayError, type HealthAction, type QueueItem, type RelayStatus } from '../api/contract.js';
import { plural } from '../health/model.js';
import { formatAge } from '../tray/age.js';

type Write = (text: string) => void;
const out: Write = (text) => void process.stdout.write(text);

/** The fixing action of each health state, as it is done from the command line. */
const CLI_ACTIONS: Record<HealthAction, string> = {
  start: 'smtp-relay run (or start the tray app or the service)',
  'set-up': 'smtp-relay config set smarthost.host HOST (or the settings window)',
  'sign-in': 'smtp-relay password set (or the settings window)',
  retry: 'smtp-relay queue retry --all',
  resume: 'Resume delivery in the tray menu or the settings window',
  'show-queue': 'smtp-relay queue list',
  'free-disk': "free space on the spool's disk (or delete messages: smtp-relay queue delete ID)",
};

function age(seconds: number | null): string {
  return seconds === null ? '-' : formatAge(seconds);
}

/** "in 40 s (10:02:13)". */
function when(at: number, now = Date.now()): string {
  return `${at <= now ? 'now' : `in ${formatAge((at - now) / 1000)}`} (${new Date(at).toLocaleTimeString()})`;
}

export function printStatus(s: RelayStatus, write: Write = out): void {
  const h = s.health;
  const lines = [
    `state:       ${s.state}${s.listening ? ` (listening on ${s.listening})` : ''}`,
    `health:      ${h.title}: ${h.cause}`,
  ];
  if (h.nextTry !== null) lines.push(`next try:    ${when(h.nextTry)}`);
  if (h.action) lines.push(`to fix:      ${h.action.label}: ${CLI_ACTIONS[h.action.id]}`);
  lines.push(
    `queued:      ${s.queued}${s.deferred ? ` (${s.deferred} deferred)` : ''}${s.queued ? `, oldest ${age(s.oldestQueuedSeconds)}` : ''}`,
    `failed:      ${s.failed}`,
  );
  if (s.sending) lines.push(`sending:     ${s.sending}`);
  if (s.corrupt) lines.push(`corrupt:     ${s.corrupt} (unreadable entries moved to spool/corrupt)`);
  if (s.lastDelivery) lines.push(`last:        ${new Date(s.lastDelivery.at).toISOString()} ${s.lastDelivery.status} to <${s.lastDelivery.to}>`);
  if (s.configError) lines.push(`config:      config.json refused, the last good configuration stays in force: ${s.configError}`);
  if (s.lastError) lines.push(`last error:  ${s.lastError}`);
  if (s.advice) lines.push(`cause:       ${s.advice.cause}`, `fix:         ${s.advice.fix}`);
  write(lines.join('\n') + '\n');
}

export function printQueue(items: QueueItem[], total: number, write: Write = out): void {
  if (items.length === 0) return write('the queue is empty\n');
  const now = Date.now();
  for (const m of items) {
    write(`${m.id}  ${m.status.padEnd(8)}  ${age(Math.floor((now - m.created) / 1000)).padStart(7)}  ${String(m.size).padStart(8)} B  <${m.from}>  ${m.subject}\n`);
    if (m.held) write(`    next try: ${m.held}${m.nextAttempt ? `, ${when(m.nextAttempt, now)}` : ''}\n`);
    for (const r of m.recipients) {
      if (r.status === 'sent') continue;
      write(`    <${r.address}> ${r.status}${r.attempts ? `, ${plural(r.attempts, 'attempt')}` : ''}${r.lastReply ? `: ${r.lastReply}` : ''}\n`);
    }
  }
  if (total > items.length) write(`(${items.length} of ${total} shown)\n`);
}

/** A queue id as `queue list` shows it; anything else is refused here, in words, before the relay is asked. */
export function checkQueueId(id: string): void {
  if (!/^[0-9a-z]{16}$/.test(id)) throw new RelayError('not-found', `no message ${id} in the queue (a queue id is 16 lower-case letters and digits, as \`smtp-relay queue list\` shows)`);
}

/** Health states in which the relay is not delivering now, whatever the message's own schedule. */
const HOLDING = ['not-set-up', 'sign-in-failed', 'smarthost-unreachable', 'paused', 'stopped'];

type FollowApi = { getMessage(id: string): Promise<QueueItem>; getStatus(): Promise<RelayStatus> };

/**
 * Waits for a test message's fate and says what happened: delivered (gone from the queue), failed, or
 * deferred with the reply; and when the relay is not trying at all (smarthost unreachable, sign-in failed,
 * paused, not set up), says that at once with the cause and the next try instead of waiting.
 */
export async function followTest(api: FollowApi, id: string, timeoutMs: number, write: Write = out): Promise<boolean> {
  write(`waiting up to ${formatAge(timeoutMs / 1000)} for the delivery…\n`);
  const until = Date.now() + timeoutMs;
  for (;;) {
    // The health first: if the message is still waiting after it, the relay really is holding it.
    const h = (await api.getStatus()).health;
    let m;
    try {
      m = await api.getMessage(id);
    } catch (e) {
      if (e instanceof RelayError && e.kind === 'not-found') {
        write(`${id}: delivered\n`);
        return true;
      }
      throw e;
    }
    const r = m.recipients[0];
    const held = HOLDING.includes(h.state);
    if (m.status !== 'queued') write(`${id}: ${m.status}${r?.lastReply ? ` (${r.lastReply})` : ''}${m.nextAttempt ? `; next try ${when(m.nextAttempt)}` : ''}\n`);
    else if (held || Date.now() > until) write(`${id}: not delivered yet${held ? '' : ` after ${formatAge(timeoutMs / 1000)}`}\n`);
    else {
      await new Promise((res) => setTimeout(res, 250));
      continue;
    }
    if (held || m.status === 'queued') {
      write(`${h.title}: ${h.cause}\n`);
      if (h.nextTry !== null) write(`next try: ${when(h.nextTry)}\n`);
      if (h.action) write(`to fix: ${h.action.label}: ${CLI_ACTIONS[h.action.id]}\n`);
    }
    return false;
  }
}
