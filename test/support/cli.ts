// Runs the real `smtp-relay` command (bin/smtp-relay.js on the compiled dist/) as a child process.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const BIN = path.resolve('bin/smtp-relay.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** One command to completion, optionally with stdin. */
export function cli(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...opts.env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(opts.input ?? '');
  });
}

export interface RunningRelay {
  child: ChildProcess;
  /** "127.0.0.1:2525" from the `listening on` line. */
  address: string;
  output(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/** `smtp-relay run`; resolves once it printed `listening on HOST:PORT`. */
export async function runRelay(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<RunningRelay> {
  const child = spawn(process.execPath, [BIN, 'run', '--data-dir', dataDir], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start within 20 s:\n${out}`)), 20_000);
    const check = () => {
      const m = /^listening on (\S+)$/m.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1] as string); }
    };
    child.stdout.on('data', check);
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`relay exited (${code}) before listening:\n${out}`)); });
  });
  return { child, address, output: () => out, exited };
}
