// The tray app's composition root (the built out/main/main.js) in a Node process with the stand-in
// 'electron' (test/support/electron-standin/), driven like a user would: click the tray and its menu,
// look at the window's page, launch it a second time, quit. Each helper here works the same whether
// the app embeds the relay or is a client of a `smtp-relay run` service (runRelay in ./cli.js).
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { renderTrayIconSet } from '../../src/tray/badge.js';
import type { TrayIconState } from '../../src/tray/badge.js';
import type { Command, FromApp, ImageRepresentation, StandinState, ToApp } from './electron-standin/control.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const APP_ENTRY = path.join(ROOT, 'out', 'main', 'main.js');
const BOOT = path.join(ROOT, 'test', 'support', 'electron-standin', 'boot.ts');
const REGISTER = path.join(ROOT, 'test', 'support', 'electron-standin', 'register.ts');

type Falsy = false | 0 | '' | null | undefined;

export interface TrayApp {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code once the process has ended (a signal counts as null). */
  exited: Promise<number | null>;
  command(command: Command): Promise<unknown>;
  snapshot(): Promise<StandinState>;
  /** Polls the stand-in's state until `check` returns something truthy, and returns that. */
  waitFor<T>(what: string, check: (s: StandinState) => T | Falsy, timeoutMs?: number): Promise<T>;
  clickTrayMenu(label: string): Promise<void>;
  /** Evaluates `fn` (self-contained: it is sent as source) in window `windowId`'s page. */
  pageEval<T>(windowId: number, fn: (arg: never) => T, arg?: unknown): Promise<Awaited<T>>;
  /** Polls pageEval until it returns something truthy. */
  waitForPage<T>(what: string, windowId: number, fn: (arg: never) => T, arg?: unknown, timeoutMs?: number): Promise<NonNullable<Awaited<T>>>;
  /** The stand-in's state as the app exited (null until then, or when it was killed). */
  finalState(): StandinState | null;
  /** SIGKILL if still running (test clean-up). */
  kill(): Promise<void>;
}

export interface LaunchOptions {
  /** The app's entry module; default the built out/main/main.js. */
  entry?: string;
  /** Arguments after the entry, e.g. ['--data-dir', dir, '--hidden']. */
  args?: string[];
  /** Added to the environment: XDG_CONFIG_HOME sets where appData (and the default userData) is. */
  env?: NodeJS.ProcessEnv;
}

/** A per-test home for the app: its XDG_CONFIG_HOME is Electron's appData on Linux. */
export async function appHome(): Promise<{ dir: string; env: NodeJS.ProcessEnv; remove(): Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tray-app-'));
  return { dir, env: { XDG_CONFIG_HOME: path.join(dir, 'config'), HOME: dir }, remove: () => fs.rm(dir, { recursive: true, force: true }) };
}

export function launchTrayApp(opts: LaunchOptions = {}): TrayApp {
  const child = fork(BOOT, [opts.entry ?? APP_ENTRY, ...(opts.args ?? [])], {
    execArgv: ['--import', REGISTER, '--no-warnings=ExperimentalWarning'],
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  let final: StandinState | null = null;
  child.on('message', (m: FromApp) => {
    if (m.kind === 'final') final = m.state;
    if (m.kind !== 'reply') return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.ok) p?.resolve(m.value);
    else p?.reject(new Error(m.error));
  });
  void exited.then((code) => {
    for (const p of pending.values()) p.reject(new Error(`the app exited (${code}) before answering; output:\n${out}`));
    pending.clear();
  });

  const command = (c: Command): Promise<unknown> => new Promise((resolve, reject) => {
    if (!child.connected) return reject(new Error(`the app is not running; output:\n${out}`));
    const id = nextId++;
    pending.set(id, { resolve, reject });
    child.send({ kind: 'command', id, command: c } satisfies ToApp);
  });
  const snapshot = () => command({ cmd: 'snapshot' }) as Promise<StandinState>;

  return {
    child, exited, command, snapshot,
    output: () => out,
    finalState: () => final,
    async waitFor(what, check, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      let last: StandinState | undefined;
      for (;;) {
        last = await snapshot();
        const value = check(last);
        if (value) return value;
        if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; state: ${JSON.stringify(last, null, 1)}\noutput:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async clickTrayMenu(label) {
      await command({ cmd: 'click-tray-menu', label });
    },
    async pageEval(windowId, fn, arg) {
      return (await command({ cmd: 'page-eval', windowId, fn: fn.toString(), arg })) as never;
    },
    async waitForPage(what, windowId, fn, arg, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const value = await command({ cmd: 'page-eval', windowId, fn: fn.toString(), arg }).catch((e: Error) => e.message);
        if (value && !(typeof value === 'string' && value.startsWith('no open window'))) return value as never;
        if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} in window ${windowId} (last: ${JSON.stringify(value)})\noutput:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The tray icon images for a state and count, as src/tray/ draws them (grey 'stopped', …). */
export function expectedTrayIcon(state: TrayIconState, queued: number): ImageRepresentation[] {
  return renderTrayIconSet(state, queued).representations.map(({ scaleFactor, size, png }) => ({
    scaleFactor, width: size, height: size, sha256: createHash('sha256').update(png).digest('hex'),
  }));
}

/** Whether the tray shows exactly this icon (e.g. trayShows(s, 'stopped', 0): grey, the relay is not running). */
export function trayShows(s: StandinState, state: TrayIconState, queued: number): boolean {
  return JSON.stringify(s.tray?.image) === JSON.stringify(expectedTrayIcon(state, queued));
}

/** The open (not destroyed) windows. */
export function openWindows(s: StandinState): StandinState['windows'] {
  return s.windows.filter((w) => !w.destroyed);
}
