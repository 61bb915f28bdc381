// utilityProcess.fork as child_process.fork: the child runs under Node with the same 'electron'
// stand-in and a process.parentPort (parent-port.ts); messages are structured clones both ways.
import { fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { isReady } from './app.js';
import { state } from './state.js';
import type { UtilityProcess as UtilityProcessType, UtilityProcessStatic } from './types.js';

export type UtilityProcess = UtilityProcessType;

const REGISTER = new URL('./register.ts', import.meta.url).href;
const PARENT_PORT = new URL('./parent-port.ts', import.meta.url).href;

class StandinUtilityProcess extends EventEmitter {
  pid: number | undefined = undefined;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  private readonly child: ReturnType<typeof fork>;

  constructor(modulePath: string, args: string[] = [], options: Electron.ForkOptions = {}) {
    super();
    if (!isReady()) throw new Error('utilityProcess.fork can only be called after app is ready');
    const stdio = typeof options.stdio === 'string' ? [options.stdio, options.stdio] : (options.stdio?.slice(1, 3) ?? ['inherit', 'inherit']);
    this.child = fork(modulePath, args, {
      execArgv: ['--import', REGISTER, '--import', PARENT_PORT, ...(options.execArgv ?? [])],
      env: (options.env as NodeJS.ProcessEnv | undefined) ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', ...stdio, 'ipc'] as ('pipe' | 'ignore' | 'inherit' | 'ipc')[],
      serialization: 'advanced',
    });
    this.stdout = this.child.stdout;
    this.stderr = this.child.stderr;
    const record = { modulePath, args, execArgv: options.execArgv ?? [], pid: null as number | null, exitCode: null as number | null };
    state.utilityProcesses.push(record);
    this.child.on('spawn', () => {
      this.pid = this.child.pid;
      record.pid = this.child.pid ?? null;
      this.emit('spawn');
    });
    this.child.on('message', (message: unknown) => this.emit('message', message));
    this.child.on('exit', (code, signal) => {
      this.pid = undefined;
      record.exitCode = code ?? (signal ? 128 : 1);
      this.emit('exit', record.exitCode);
    });
  }

  postMessage(message: unknown): void {
    this.child.send(message as Parameters<typeof this.child.send>[0]);
  }

  kill(): boolean {
    return this.child.kill();
  }
}

export const utilityProcess: UtilityProcessStatic = {
  fork: (modulePath, args, options) => new StandinUtilityProcess(modulePath, args, options),
};
