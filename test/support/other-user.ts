// Runs the real `smtp-relay` command as another local user, for the tests about what a second user of
// the machine can and cannot do. Needs root (CI and these machines run as root): the user is created with
// useradd and the command dropped to it with setpriv. When the checkout sits below a folder other users
// cannot enter (a clone under /root), it is bind-mounted at a reachable place first.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, type CliResult } from './cli.js';

export interface OtherUser {
  name: string;
  uid: number;
  /** `smtp-relay ARGS` as this user. */
  cli(args: string[], opts?: { input?: string }): Promise<CliResult>;
  /** Any program as this user. */
  exec(file: string, args: string[]): Promise<CliResult>;
  /** `smtp-relay ARGS` as this user, left running (a service). */
  spawnCli(args: string[]): ChildProcess;
}

/** Why these tests cannot run here, or null when they can. */
export function otherUsersUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to create a second local user (useradd) and run as it (setpriv)';
  for (const tool of ['useradd', 'setpriv']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`]);
    } catch {
      return `${tool} is not installed`;
    }
  }
  return null;
}

const mounts: string[] = [];

/** The repository root as another user can reach it. */
function reachableRoot(user: string): string {
  const root = path.dirname(path.dirname(BIN));
  const canRun = (r: string) => {
    try {
      execFileSync('setpriv', [`--reuid=${user}`, `--regid=${user}`, '--clear-groups', process.execPath, '-e', '0', path.join(r, 'bin/smtp-relay.js')]);
      execFileSync('setpriv', [`--reuid=${user}`, `--regid=${user}`, '--clear-groups', 'test', '-r', path.join(r, 'bin/smtp-relay.js')]);
      return true;
    } catch {
      return false;
    }
  };
  if (canRun(root)) return root;
  const at = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-relay-checkout-'));
  fs.chmodSync(at, 0o755);
  execFileSync('mount', ['--bind', root, at]);
  mounts.push(at);
  if (!canRun(at)) throw new Error(`user ${user} cannot run ${process.execPath} or the checkout even through ${at}`);
  return at;
}

export function createUser(name: string): OtherUser {
  try {
    execFileSync('id', ['-u', name], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
  }
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const root = reachableRoot(name);
  const exec = (file: string, args: string[], input?: string) => new Promise<CliResult>((resolve) => {
    const child = execFile('setpriv', [`--reuid=${name}`, `--regid=${name}`, '--clear-groups', file, ...args],
      { timeout: 30_000, cwd: os.tmpdir(), env: { PATH: process.env.PATH, HOME: os.tmpdir() } }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    child.stdin?.on('error', () => {}); // the command may exit before reading its input
    child.stdin?.end(input ?? '');
  });
  const drop = [`--reuid=${name}`, `--regid=${name}`, '--clear-groups'];
  return {
    name, uid,
    cli: (args, opts = {}) => exec(process.execPath, [path.join(root, 'bin/smtp-relay.js'), ...args], opts.input),
    exec: (file, args) => exec(file, args),
    spawnCli: (args) => spawn('setpriv', [...drop, process.execPath, path.join(root, 'bin/smtp-relay.js'), ...args],
      { cwd: os.tmpdir(), env: { PATH: process.env.PATH, HOME: os.tmpdir() }, stdio: ['ignore', 'pipe', 'pipe'] }),
  };
}

export function unmountCheckouts(): void {
  for (const at of mounts.splice(0)) {
    execFileSync('umount', [at]);
    fs.rmdirSync(at);
  }
}
