// The data directory is private to the relay's owner: it holds every queued message (spool/), addresses and
// subjects (logs/), the configuration and the control key. The relay creates it so, and tightens an existing
// one at start (a folder made by hand, or by an old version under umask 022).
//
// POSIX: the folder is 0711, so that other users can reach control/ (the public status and the socket,
// which has its own owner-only mode) without listing anything; spool/ and logs/ are 0700, config.json and
// control.key 0600. Windows: a per-user folder under the profile inherits the profile's private ACL; any
// other folder (the service's %ProgramData%\SMTP Relay Tray, a --data-dir elsewhere) gets an explicit ACL:
// SYSTEM, Administrators and the relay's own account, no inheritance; control\ readable by Users.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What must be private, with the POSIX mode it gets; files that do not exist yet are left alone. */
const MODES: { name: string; mode: number; dir: boolean }[] = [
  { name: '.', mode: 0o711, dir: true },
  { name: 'spool', mode: 0o700, dir: true },
  { name: 'logs', mode: 0o700, dir: true },
  { name: 'config.json', mode: 0o600, dir: false },
  { name: 'control.key', mode: 0o600, dir: false },
];

/** Creates the folder and its private subfolders, or tightens them; returns what was changed, for the log. */
export async function makeDataDirPrivate(dataDir: string, platform = process.platform): Promise<string[]> {
  await fs.mkdir(dataDir, { recursive: true, mode: 0o711 });
  if (platform === 'win32') return windowsAcl(dataDir);
  const changed: string[] = [];
  for (const { name, mode, dir } of MODES) {
    const p = path.join(dataDir, name);
    if (dir) await fs.mkdir(p, { recursive: true, mode });
    let st;
    try {
      st = await fs.lstat(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    if (st.isSymbolicLink()) throw new Error(`${p} is a symbolic link; the data directory must hold its own files`);
    const current = st.mode & 0o777;
    if (current !== mode) {
      await fs.chmod(p, mode);
      changed.push(`${p} ${current.toString(8).padStart(4, '0')} -> ${mode.toString(8).padStart(4, '0')}`);
    }
  }
  return changed;
}

/** icacls arguments that give dataDir an explicit ACL (SIDs, so they work in every Windows language). */
export function windowsAclCommands(dataDir: string, ownerSid: string): string[][] {
  return [
    [dataDir, '/inheritance:r', '/grant:r', '*S-1-5-18:(OI)(CI)F', '*S-1-5-32-544:(OI)(CI)F', `*${ownerSid}:(OI)(CI)F`],
    // BUILTIN\Users may read the public status in control\ (and nothing else).
    [path.win32.join(dataDir, 'control'), '/grant', '*S-1-5-32-545:(OI)(CI)RX'],
    [dataDir, '/grant', '*S-1-5-32-545:(X)'],
  ];
}

export function isInsideProfile(dataDir: string, home = os.homedir()): boolean {
  const rel = path.win32.relative(home.toLowerCase(), dataDir.toLowerCase());
  return rel !== '' && !rel.startsWith('..') && !path.win32.isAbsolute(rel);
}

async function windowsAcl(dataDir: string): Promise<string[]> {
  if (isInsideProfile(dataDir)) return [];
  const { stdout } = await run('whoami', ['/user', '/fo', 'csv', '/nh'], { windowsHide: true });
  const sid = /"(S-1-[0-9-]+)"/.exec(stdout)?.[1];
  if (!sid) throw new Error(`cannot tell this account's SID from whoami: ${stdout.trim()}`);
  await fs.mkdir(path.win32.join(dataDir, 'control'), { recursive: true });
  for (const args of windowsAclCommands(dataDir, sid)) await run('icacls', args, { windowsHide: true });
  return [`${dataDir}: explicit ACL (SYSTEM, Administrators, ${sid})`];
}
