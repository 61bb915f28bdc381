// Which process is which, across pid reuse. A pid alone names a different process after a crash and a
// reboot (Windows hands out small pids again quickly), so the lock and the public status file record the
// process's start time too, and a pid whose start time differs is another process.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';

/** How far two readings of one process's start may differ. Linux: both come from /proc, to the clock tick.
 *  Windows: ours is estimated from the uptime, the other read from CreationTime. A reused pid starts later. */
const SAME_START_MS = process.platform === 'linux' ? 10 : 1500;

export interface ProcessIdentity {
  pid: number;
  /** When the process started, ms since the epoch; null where the platform cannot tell. */
  started: number | null;
}

/** true when the pid exists (EPERM: it does, but belongs to another user). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Linux: /proc/PID/stat field 22 is the start in clock ticks after boot; /proc/stat's btime is the boot. */
async function linuxStart(pid: number): Promise<number | null> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // comm may contain spaces
    const ticks = Number(fields[19]); // field 22 overall; fields[0] is field 3
    const btime = Number(/^btime (\d+)$/m.exec(await fs.readFile('/proc/stat', 'utf8'))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(btime)) return null;
    return btime * 1000 + ticks * 10; // USER_HZ is 100 on every Linux build Node supports
  } catch {
    return null;
  }
}

/** Windows: the process's CreationTime. Reading another account's process (a service) may be refused to a
 *  non-administrator: then null, and the pid alone decides. */
export function windowsStartCommand(pid: number): [string, string[]] {
  return ['powershell.exe', ['-NoProfile', '-NonInteractive', '-Command',
    `(Get-Process -Id ${pid} -ErrorAction Stop).StartTime.ToUniversalTime().ToString('o')`]];
}

function windowsStart(pid: number): Promise<number | null> {
  const [file, args] = windowsStartCommand(pid);
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 10_000, windowsHide: true }, (error, stdout) => {
      const t = Date.parse(stdout.trim());
      resolve(error || Number.isNaN(t) ? null : t);
    });
  });
}

export async function processStart(pid: number, platform = process.platform): Promise<number | null> {
  if (platform === 'linux') return linuxStart(pid);
  if (platform === 'win32') return windowsStart(pid);
  return null;
}

/** This process, as the lock and status file record it. */
export async function ownIdentity(): Promise<ProcessIdentity> {
  const started = process.platform === 'linux'
    ? await linuxStart(process.pid)
    : Math.round(Date.now() - process.uptime() * 1000); // Windows' CreationTime, to within the tolerance
  return { pid: process.pid, started };
}

/** Whether the process a lock or status file names still runs: same pid and, where known, same start. */
export async function stillRunning(id: ProcessIdentity): Promise<boolean> {
  if (!pidExists(id.pid)) return false;
  if (id.started === null) return true;
  const now = await processStart(id.pid);
  return now === null || Math.abs(now - id.started) < SAME_START_MS;
}
