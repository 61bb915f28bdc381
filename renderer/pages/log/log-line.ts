// The delivery log's lines ("2026-11-22T09:14:03.120Z info id=… status=sent (250 …)"), read for display.

export interface LogLine {
  at: number | null;
  level: 'info' | 'warning' | 'error' | null;
  text: string;
  raw: string;
}

export function parseLogLine(raw: string): LogLine {
  const m = /^(\S+) (info|warning|error) (.*)$/.exec(raw);
  if (!m) return { at: null, level: null, text: raw, raw };
  const at = Date.parse(m[1] as string);
  return { at: Number.isNaN(at) ? null : at, level: m[2] as LogLine['level'], text: m[3] as string, raw };
}

/** The delivery line of a message: "to=<a@b> relay=host[ip]:587 … status=sent (250 2.0.0 OK)". */
export function sentLine(lines: string[], id: string): { reply: string; relay: string | null; at: number | null } | null {
  for (const raw of lines) {
    const line = parseLogLine(raw);
    if (!line.text.startsWith(`id=${id} `) || !/ status=sent\b/.test(line.text)) continue;
    return {
      reply: /status=sent \((.*)\)$/.exec(line.text)?.[1] ?? '',
      relay: / relay=(\S+)/.exec(line.text)?.[1] ?? null,
      at: line.at,
    };
  }
  return null;
}
