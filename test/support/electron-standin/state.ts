// What the stand-in records, the commands it takes from the test (control.ts) over the app
// process's Node IPC channel, and the exit path every quit goes through.
import type { Command, FromApp, StandinState, ToApp } from './control.js';

export const state: StandinState = {
  app: {
    name: null, paths: {}, appUserModelId: null, ready: false, singleInstance: null,
    privilegedSchemes: [], loginItem: null, listeners: {}, quitCalls: 0, secondLaunches: 0,
  },
  tray: null,
  screen: { listeners: {} },
  windows: [],
  ipc: { handlers: [], invocations: [], sent: [] },
  protocols: { schemes: [], responses: [] },
  notifications: [],
  openedPaths: [],
  permissions: { requestHandler: false, checkHandler: false },
  webContents: {},
  blockedNavigations: [],
  utilityProcesses: [],
  pageProblems: [],
};

type Handlers = { [C in Command['cmd']]?: (command: Extract<Command, { cmd: C }>) => unknown };
const handlers: Handlers = { snapshot: () => state };

export function onCommand<C extends Command['cmd']>(cmd: C, handler: (command: Extract<Command, { cmd: C }>) => unknown): void {
  (handlers as Record<string, unknown>)[cmd] = handler;
}

function send(message: FromApp): void {
  if (process.connected) process.send?.(message);
}

process.on('message', (message: ToApp) => {
  if (message?.kind !== 'command') return;
  const handler = handlers[message.command.cmd] as ((c: Command) => unknown) | undefined;
  void (async () => {
    if (!handler) throw new Error(`unknown command ${message.command.cmd}`);
    return handler(message.command);
  })().then(
    (value) => send({ kind: 'reply', id: message.id, ok: true, value: value ?? null }),
    (e: Error) => send({ kind: 'reply', id: message.id, ok: false, error: e.message }),
  );
});

/** Cleanup before the process ends (closing Chromium, releasing the single-instance lock). */
const exitTasks: (() => Promise<void>)[] = [];
export function atExit(task: () => Promise<void>): void {
  exitTasks.push(task);
}

let exiting = false;
export function exitProcess(code: number): void {
  if (exiting) return;
  exiting = true;
  const bounded = (p: Promise<void>) => Promise.race([p.catch(() => {}), new Promise<void>((r) => setTimeout(r, 5_000))]);
  void Promise.all(exitTasks.map((t) => bounded(t())))
    .then(() => new Promise<void>((resolve) => (process.connected ? process.send?.({ kind: 'final', state } satisfies FromApp, () => resolve()) : resolve())))
    .then(() => process.exit(code));
}
