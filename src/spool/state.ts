// The envelope state file of one message: who it is from, each recipient's progress, and enough of the
// last reply to explain it. Rewritten whole (as a new generation) on every change; small by design.
import { z } from 'zod';

/**
 * Version of the on-disk state format; a spool written by a newer release is refused, not misread.
 * 2 added eightBit and smtputf8; a v1 file reads as a message that declared neither (what v1 sent).
 */
export const STATE_VERSION = 2;

/** q: not tried yet, d: deferred (will retry), s: sent (accepted upstream), f: failed permanently. */
export const recipientStateSchema = z.object({
  a: z.string(),
  st: z.enum(['q', 'd', 's', 'f']),
  /** Attempts made for this recipient. */
  n: z.number().int().min(0),
  /** Retry-schedule steps used: attempts that failed because of the message, not the destination. */
  retry: z.number().int().min(0).optional(),
  /** Earliest time of its next attempt (ms). */
  next: z.number(),
  code: z.number().int().optional(),
  esc: z.string().optional(),
  resp: z.string().max(512).optional(),
  relay: z.string().optional(),
  /** Time of the last attempt (ms). */
  at: z.number().optional(),
});

export const messageStateSchema = z.object({
  v: z.literal(STATE_VERSION),
  /** 8-bit content: the client said BODY=8BITMIME or sent bytes above 127 (RFC 6152). */
  eightBit: z.literal(true).optional(),
  /** The client said SMTPUTF8: addresses or headers may be UTF-8 (RFC 6531). */
  smtputf8: z.literal(true).optional(),
  id: z.string(),
  created: z.number(),
  /** Envelope sender; '' is the null sender <> (bounces). */
  from: z.string(),
  size: z.number().int().min(0),
  client: z.object({ ip: z.string(), helo: z.string() }),
  rcpts: z.array(recipientStateSchema).min(1),
  /** A delay warning was sent (once per message). */
  warned: z.boolean().optional(),
  /** Subject line, decoded as far as plain text allows, for the queue view. */
  subject: z.string().max(200),
  /** The Message-ID header without <> (at most 200 characters), so the queue can be searched by it. */
  mid: z.string().max(200).optional(),
  gen: z.number().int().min(1),
  /** Sentinel written last: a torn write that lost the tail is detected (Postfix's END record). */
  end: z.literal(true),
});

export type RecipientState = z.infer<typeof recipientStateSchema>;
export type MessageState = z.infer<typeof messageStateSchema>;

export function serializeState(state: MessageState): string {
  // `end` goes last whatever order the object was built in.
  const { end: _end, ...rest } = state;
  return JSON.stringify({ ...rest, end: true });
}

/** Parses a state file; throws with a reason when it is truncated, corrupt or from a newer version. */
export function parseState(text: string): MessageState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error(text.length === 0 ? 'empty state file' : 'state file is not valid JSON (truncated?)');
  }
  const v = (raw as { v?: unknown } | null)?.v;
  if (typeof v === 'number' && v > STATE_VERSION) {
    throw new Error(`state format v${v} is newer than this release understands (v${STATE_VERSION})`);
  }
  if (v === 1) raw = { ...(raw as object), v: STATE_VERSION }; // v1 had no fields v2 lacks
  const result = messageStateSchema.safeParse(raw);
  if (!result.success) {
    const i = result.error.issues[0];
    throw new Error(`state file is invalid at ${i?.path.join('.') || 'top level'}: ${i?.message}`);
  }
  return result.data;
}

/** The message is finished when no recipient is waiting. */
export function isTerminal(state: MessageState): boolean {
  return state.rcpts.every((r) => r.st === 's' || r.st === 'f');
}

/** When the message should next be tried: the earliest pending recipient. */
export function nextDue(state: MessageState): number {
  let due = Infinity;
  for (const r of state.rcpts) if (r.st === 'q' || r.st === 'd') due = Math.min(due, r.next);
  return due;
}

export function attemptsOf(state: MessageState): number {
  return state.rcpts.reduce((max, r) => Math.max(max, r.n), 0);
}
