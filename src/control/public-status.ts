// What any local user may know about the relay: its state and counts, published as
// <data dir>/control/status.json, readable by everyone and written only by the relay (the folder is the
// relay's own). The tray of a user who is not an administrator, `smtp-relay status` and a monitoring check
// read it; they need neither the control key nor a connection, so they send nothing to anyone.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { RelayApi, RelayStatus } from '../api/contract.js';
import { ownIdentity, stillRunning, type ProcessIdentity } from '../spool/process-identity.js';
import { controlDir } from './address.js';

export const STATUS_FILE = 'status.json';

interface StatusFile {
  v: 1;
  relay: ProcessIdentity;
  /** When the status was taken, ms since the epoch. */
  updated: number;
  status: RelayStatus;
}

export function statusFile(dataDir: string): string {
  return path.join(controlDir(dataDir), STATUS_FILE);
}

/**
 * The public part: no message and no mailbox. lastDelivery names a recipient; a server's reply quoted in
 * lastError, advice or the health cause may name one too, so every address keeps only its domain
 * (what a monitoring check needs to say which destination refuses).
 */
export function publicPart(s: RelayStatus): RelayStatus {
  const hidden = JSON.stringify({ ...s, lastDelivery: null }, (_key, value: unknown) =>
    typeof value === 'string' ? value.replace(MAILBOX, '…@$1') : value);
  return JSON.parse(hidden) as RelayStatus;
}

/** A local part and its domain, as servers quote them in replies (bare, in <>, in quotes). */
const MAILBOX = /(?:"[^"]*"|[^\s<>"'()[\],;:]+)@([a-z0-9.-]+|\[[^\]]*\])/gi;

async function write(dataDir: string, body: StatusFile): Promise<void> {
  const file = statusFile(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(body) + '\n', { mode: 0o644 });
  if (process.platform !== 'win32') await fs.chmod(tmp, 0o644); // whatever the umask
  await fs.rename(tmp, file); // readers see the old or the new file, never half of one
}

/** Keeps status.json current while the relay runs; the returned function marks it stopped. */
export async function publishStatus(api: Pick<RelayApi, 'getStatus' | 'onStatus'>, dataDir: string): Promise<() => Promise<void>> {
  const relay = await ownIdentity();
  let latest = await api.getStatus();
  let writing = Promise.resolve();
  const flush = () => {
    const body: StatusFile = { v: 1, relay, updated: Date.now(), status: publicPart(latest) };
    // A failed write (disk full) must not stop the relay; the next change tries again.
    writing = writing.then(() => write(dataDir, body)).catch(() => {});
  };
  flush();
  await writing; // the file is current before the relay says it is listening
  // One write per status event: the events are already spaced (at most one a second while mail flows,
  // src/status/status-events.ts), so the file needs no spacing of its own.
  const unsubscribe = api.onStatus((s) => {
    latest = s;
    flush();
  });
  return async () => {
    unsubscribe();
    latest = { ...latest, state: 'stopped', listening: null, sending: 0 };
    flush();
    await writing;
  };
}

/**
 * The relay's public status, or null when no relay has ever run here. A relay that died without saying so
 * (crash, power cut, SIGKILL) is reported stopped: its pid is gone or belongs to another process now.
 */
export async function readPublicStatus(dataDir: string, now = Date.now()): Promise<(RelayStatus & { updated: number }) | null> {
  let body: StatusFile;
  try {
    body = JSON.parse(await fs.readFile(statusFile(dataDir), 'utf8')) as StatusFile;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (e instanceof SyntaxError) return null;
    throw e;
  }
  const s = body.status;
  const running = s.state !== 'stopped' && (await stillRunning(body.relay));
  const aged = s.oldestQueuedSeconds === null ? null : s.oldestQueuedSeconds + Math.max(0, Math.floor((now - body.updated) / 1000));
  return running
    ? { ...s, oldestQueuedSeconds: aged, updated: body.updated }
    : { ...s, state: 'stopped', listening: null, sending: 0, oldestQueuedSeconds: aged, updated: body.updated };
}
