// Durations as admins write them in Postfix and Haraka configs: "30s", "5m", "1h30m", "5d".
// A retry schedule is a comma list of durations; "1h*3" repeats a step (Haraka's syntax).

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;

/** Parses "1h30m" to milliseconds; throws with a message fit for a config error. */
export function parseDuration(text: string): number {
  const s = text.trim().toLowerCase();
  if (s === '') throw new Error('is empty; expected a duration such as 30s, 5m, 1h30m or 5d');
  if (s === '0') return 0;
  PART.lastIndex = 0;
  let total = 0;
  while (PART.lastIndex < s.length) {
    const at = PART.lastIndex;
    const m = PART.exec(s);
    if (!m) {
      throw new Error(`"${text}" is not a duration (at "${s.slice(at)}"); use a number with a unit ms, s, m, h, d or w, e.g. 1h30m`);
    }
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  return Math.round(total);
}

/** Parses "1m,2m,5m*2,1h" into step lengths in ms. Every step must be positive. */
export function parseSchedule(text: string): number[] {
  const steps: number[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') throw new Error(`"${text}" has an empty step; separate durations with single commas`);
    const [dur, times, extra] = item.split('*');
    if (extra !== undefined) throw new Error(`step "${item}" has more than one "*"`);
    const ms = parseDuration(dur as string);
    if (ms <= 0) throw new Error(`step "${item}" must be longer than zero`);
    let count = 1;
    if (times !== undefined) {
      if (!/^\d+$/.test(times.trim()) || Number(times) < 1 || Number(times) > 1000) {
        throw new Error(`step "${item}": the repeat count after "*" must be a whole number from 1 to 1000`);
      }
      count = Number(times);
    }
    for (let i = 0; i < count; i++) steps.push(ms);
  }
  return steps;
}

/** Formats milliseconds the way Postfix's log does for delays: "0.25", "12", "3600" seconds. */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return s < 10 ? s.toFixed(2).replace(/\.?0+$/, '') || '0' : String(Math.round(s));
}

/** Formats milliseconds in the config's own units, largest first: 432000000 -> "5d", 5400000 -> "1h30m". */
export function formatDuration(ms: number): string {
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out || `${rest}ms`;
}
