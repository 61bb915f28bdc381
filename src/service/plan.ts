// An install or uninstall as a list of steps, built by pure functions (tested on any OS) and carried
// out here, one step at a time, saying what it does.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface Command {
  file: string;
  args: string[];
}

export type Step =
  | { kind: 'mkdir'; path: string }
  | { kind: 'write'; path: string; text: string }
  | { kind: 'copy'; from: string; to: string }
  | { kind: 'remove'; path: string }
  | { kind: 'run'; command: Command; /** exit codes that mean "already so" */ ok?: number[] }
  /** A step that cannot be done on this machine, with the reason and what to do instead. */
  | { kind: 'skip'; what: string; why: string };

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion (never through a shell), collecting its output. */
export function runCommand(c: Command): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(c.file, c.args, { timeout: 60_000, windowsHide: true }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: err && typeof err.code !== 'number' ? `${stderr}${err.message}` : stderr });
    });
  });
}

export function describe(s: Step): string {
  switch (s.kind) {
    case 'mkdir': return `create ${s.path}`;
    case 'write': return `write ${s.path}`;
    case 'copy': return `copy ${s.from} to ${s.to}`;
    case 'remove': return `remove ${s.path}`;
    case 'run': return [s.command.file, ...s.command.args].map((a) => (a === '' || /\s/.test(a) ? JSON.stringify(a) : a)).join(' ');
    case 'skip': return `skipped: ${s.what} (${s.why})`;
  }
}

/** Carries out the steps in order; the first that fails stops the rest with an error naming it. */
export async function runPlan(steps: Step[], say: (line: string) => void): Promise<void> {
  for (const s of steps) {
    say(describe(s));
    try {
      await runStep(s);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') throw new Error(`${describe(s)}: permission denied: run this as root (sudo) or from an elevated (administrator) prompt`, { cause: e });
      throw e;
    }
  }
}

async function runStep(s: Step): Promise<void> {
  switch (s.kind) {
    case 'mkdir': await fs.mkdir(s.path, { recursive: true }); break;
    case 'write':
      await fs.mkdir(path.dirname(s.path), { recursive: true });
      await fs.writeFile(s.path, s.text, { mode: 0o644 });
      break;
    case 'copy': await fs.copyFile(s.from, s.to); break;
    case 'remove': await fs.rm(s.path, { force: true }); break;
    case 'skip': break;
    case 'run': {
      const r = await runCommand(s.command);
      if (r.code !== 0 && !s.ok?.includes(r.code)) {
        throw new Error(`${describe(s)} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
      }
    }
  }
}
