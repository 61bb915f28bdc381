// Plain-language times, sizes and states for the settings window.
import type { RelayState } from '../src/api/contract.js';
import { formatAge } from '../src/tray/age.js';

/** What went wrong, in the relay's own words (across Electron's contextBridge only the message survives). */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function duration(ms: number): string {
  return formatAge(Math.round(ms / 1000));
}

export function ago(at: number, now: number): string {
  return now - at < 5000 ? 'just now' : `${duration(now - at)} ago`;
}

export function fromNow(at: number, now: number): string {
  return at <= now ? 'now' : `in ${duration(at - now)}`;
}

/** Local time of day, with the date when it is not today. */
// Made once: toLocaleTimeString() with options builds a new formatter per call, which made the queue
// page's "next try" column the largest single cost of drawing its rows.
const TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const DATE = new Intl.DateTimeFormat();

export function localTime(at: number, now = Date.now()): string {
  const d = new Date(at);
  const time = TIME.format(d);
  return d.toDateString() === new Date(now).toDateString() ? time : `${DATE.format(d)} ${time}`;
}

export function megabytes(bytes: number): string {
  const mb = bytes / 1024 / 1024;
  return `${mb >= 10 ? Math.round(mb) : Math.round(mb * 10) / 10} MB`;
}

/** "12" -> 12; anything else stays text, so the schema names the field and says it must be a number. */
export function numberOrText(text: string): number | string {
  return /^\s*-?\d+(\.\d+)?\s*$/.test(text) ? Number(text) : text;
}

export const STATE_LABELS: Record<RelayState, string> = {
  running: 'Running',
  paused: 'Delivery paused',
  'auth-failed': 'Sign-in to the smarthost failed',
  unconfigured: 'Not set up yet',
  stopped: 'Relay stopped',
};

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
