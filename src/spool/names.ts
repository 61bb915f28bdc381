// File names in the spool. Scheduling facts live in the names so that start-up, status counts and
// the scheduler's scan need only readdir, never a file read (Haraka's trick). Names are lower-case
// ASCII with no ':' so they are valid on NTFS.
//
//   msg/<id>.eml                                  content, written once
//   q/<bucket>/<due>_<id>_<gen>_<attempts>.json   waiting: due = next attempt (ms, 13 digits)
//   failed/<id>_<gen>.json                        kept after a permanent failure, until deleted
import crypto from 'node:crypto';

/** Width of a q/ bucket: the scheduler lists only buckets that have started. */
export const BUCKET_MS = 15 * 60_000;

/** 16 chars [0-9a-z]: 9 of time (ms since epoch, base36, sorts by arrival until year 5188) + 7 random. */
export function newId(now = Date.now()): string {
  const rand = randomWord() % 36n ** 7n;
  return now.toString(36).padStart(9, '0') + rand.toString(36).padStart(7, '0');
}

// Random bytes fetched 4 KB at a time: one call to the CSPRNG per 512 ids instead of one per id.
let pool = Buffer.alloc(0);
let poolAt = 0;

function randomWord(): bigint {
  if (poolAt + 8 > pool.length) {
    pool = crypto.randomBytes(4096);
    poolAt = 0;
  }
  const word = pool.readBigUInt64BE(poolAt);
  poolAt += 8;
  return word;
}

/** Arrival time encoded in an id. */
export function idTime(id: string): number {
  return parseInt(id.slice(0, 9), 36);
}

export function bucketOf(due: number): string {
  return Math.floor(due / BUCKET_MS).toString(36).padStart(8, '0');
}

export function bucketStart(bucket: string): number {
  return parseInt(bucket, 36) * BUCKET_MS;
}

export function isBucket(s: string): boolean {
  return /^[0-9a-z]{8}$/.test(s);
}

export interface QueueName {
  due: number;
  id: string;
  gen: number;
  /** Delivery attempts so far; > 0 means the message is deferred. */
  attempts: number;
}

export function queueName(n: QueueName): string {
  return `${String(n.due).padStart(13, '0')}_${n.id}_${n.gen}_${n.attempts}.json`;
}

const Q_NAME = /^(\d{13})_([0-9a-z]{16})_(\d{1,9})_(\d{1,9})\.json$/;

export function parseQueueName(name: string): QueueName | null {
  const m = Q_NAME.exec(name);
  if (!m) return null;
  return { due: Number(m[1]), id: m[2] as string, gen: Number(m[3]), attempts: Number(m[4]) };
}

export interface FailedName {
  id: string;
  gen: number;
}

export function failedName(n: FailedName): string {
  return `${n.id}_${n.gen}.json`;
}

const F_NAME = /^([0-9a-z]{16})_(\d{1,9})\.json$/;

export function parseFailedName(name: string): FailedName | null {
  const m = F_NAME.exec(name);
  return m ? { id: m[1] as string, gen: Number(m[2]) } : null;
}
