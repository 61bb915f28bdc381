// The control key: 32 random bytes in the data directory that only the relay's owner and administrators can
// read (0600; on Windows the data directory's ACL). Holding it is what makes a client an administrator of
// the relay and what lets a client tell the real relay from a process that took its address first. Both
// ends prove they hold it with an HMAC over fresh nonces; it never crosses the channel.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export const KEY_FILE = 'control.key';

/** The caller may not read the key: neither the relay's owner nor an administrator. */
export class ControlAccessError extends Error {
  constructor(readonly dataDir: string) {
    super(`only the relay's owner or an administrator may do this (${path.join(dataDir, KEY_FILE)} is not readable for you); ` +
      'any user may run `smtp-relay status`');
    this.name = 'ControlAccessError';
  }
}

export function keyFile(dataDir: string): string {
  return path.join(dataDir, KEY_FILE);
}

/** The key, or null when no relay has created one yet. */
export async function readControlKey(dataDir: string): Promise<Buffer | null> {
  try {
    const hex = (await fs.readFile(keyFile(dataDir), 'utf8')).trim();
    return /^[0-9a-f]{64}$/.test(hex) ? Buffer.from(hex, 'hex') : null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    if (code === 'EACCES' || code === 'EPERM') throw new ControlAccessError(dataDir);
    throw e;
  }
}

/** Creates the key on first start (exclusively, owner-only from the first byte), else reads it. */
export async function ensureControlKey(dataDir: string): Promise<Buffer> {
  const existing = await readControlKey(dataDir);
  if (existing) return existing;
  const key = crypto.randomBytes(32);
  try {
    await fs.writeFile(keyFile(dataDir), key.toString('hex') + '\n', { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    await fs.writeFile(keyFile(dataDir), key.toString('hex') + '\n', { mode: 0o600 }); // torn by a crash
  }
  return key;
}

/** HMAC of the key over a role and the two nonces: what each side shows to prove it holds the key. */
export function proofOf(key: Buffer, role: 'relay' | 'client', first: string, second: string): string {
  return crypto.createHmac('sha256', key).update(`smtp-relay-control ${role} ${first} ${second}`).digest('hex');
}

export function proofMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length !== expected.length) return false;
  return crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(given));
}

/** A name derived from the key, for endpoints that must not be guessable from the data directory's path. */
export function keyedName(key: Buffer, purpose: string): string {
  return crypto.createHmac('sha256', key).update(`smtp-relay-control name ${purpose}`).digest('hex').slice(0, 32);
}
