// State changes an admin must know about, written where fleet monitoring looks: the Windows
// Application log under our own source (SCOM and other tools key on the event IDs), and on Linux the
// delivery log plus, under systemd, the journal with a stable MESSAGE_ID. The IDs and MESSAGE_IDs
// are a public contract (README, "Monitoring and fleets"): never renumber them.
import { spawn } from 'node:child_process';
import type { LogLevel } from '../log/mail-log.js';

export const EVENT_SOURCE = 'SMTP Relay Tray';

export const EVENTS = {
  started: { id: 1000, level: 'info' },
  stopped: { id: 1001, level: 'info' },
  recovered: { id: 1002, level: 'info' },
  'sign-in-failed': { id: 1100, level: 'error' },
  'smarthost-unreachable': { id: 1101, level: 'error' },
  'mail-stuck': { id: 1102, level: 'warning' },
  'disk-low': { id: 1103, level: 'warning' },
  'config-refused': { id: 1104, level: 'error' },
} as const satisfies Record<string, { id: number; level: LogLevel }>;

export type EventName = keyof typeof EVENTS;

export interface RelayEventRecord {
  name: EventName;
  id: number;
  level: LogLevel;
  /** One line, in words, with the cause when known. */
  message: string;
}

export function relayEvent(name: EventName, message: string): RelayEventRecord {
  return { name, ...EVENTS[name], message: message.replace(/[\r\n]+/g, ' ').trim() };
}

/** journald's MESSAGE_ID is 128 bits in hex: a fixed prefix of our own and the event ID. */
const MESSAGE_ID_PREFIX = '7b3e52d0c4a94f1e8d6a05f2b91c';

export function messageId(eventId: number): string {
  return MESSAGE_ID_PREFIX + eventId.toString(16).padStart(4, '0');
}

export interface EventSink {
  write(event: RelayEventRecord): void;
}

/** A program to run for one event: what the Windows and journal writers do, testable by its arguments. */
export interface EventCommand {
  file: string;
  args: string[];
  env?: Record<string, string>;
  stdin?: string;
}

/**
 * Windows PowerShell 5.1's Write-EventLog: it takes our own source and event IDs above 1000
 * (eventcreate stops at 1000). The message travels in an environment variable, so no quoting of
 * reply texts is needed. The source must exist: the per-machine installer registers it
 * (New-EventLog needs administrator rights); without it the event is only in the delivery log.
 */
export function windowsEventCommand(e: RelayEventRecord): EventCommand {
  const type = { info: 'Information', warning: 'Warning', error: 'Error' }[e.level];
  return {
    file: 'powershell.exe',
    args: ['-NoProfile', '-NonInteractive', '-Command',
      `Write-EventLog -LogName Application -Source '${EVENT_SOURCE}' -EventId ${e.id} -EntryType ${type} -Message $env:SMTP_RELAY_EVENT_MESSAGE`],
    env: { SMTP_RELAY_EVENT_MESSAGE: e.message },
  };
}

/** util-linux `logger --journald`: one KEY=VALUE per line on stdin, sent by the journal's native protocol. */
export function journalCommand(e: RelayEventRecord): EventCommand {
  const priority = { info: 6, warning: 4, error: 3 }[e.level];
  const fields = {
    MESSAGE: `${e.name} (event ${e.id}): ${e.message}`,
    MESSAGE_ID: messageId(e.id),
    PRIORITY: String(priority),
    SYSLOG_IDENTIFIER: 'smtp-relay',
    SMTP_RELAY_EVENT: e.name,
    SMTP_RELAY_EVENT_ID: String(e.id),
  };
  return { file: 'logger', args: ['--journald'], stdin: Object.entries(fields).map(([k, v]) => `${k}=${v}`).join('\n') + '\n' };
}

/** systemd sets these for the services it runs (JOURNAL_STREAM when stdout goes to the journal). */
export function underSystemd(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.JOURNAL_STREAM || env.NOTIFY_SOCKET);
}

export interface SystemSinkOptions {
  /** The delivery log, where every event also goes. */
  log: (level: LogLevel, text: string) => void;
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  /** Runs a command and resolves with an error text when it failed; default: spawns it. */
  run?: (c: EventCommand) => Promise<string | null>;
}

/** The sink for this machine: the delivery log always, plus the Event Log (Windows) or the journal (systemd). */
export function systemEventSink(opts: SystemSinkOptions): EventSink {
  const platform = opts.platform ?? process.platform;
  const env = opts.env ?? process.env;
  const run = opts.run ?? runCommand;
  const command = platform === 'win32' ? windowsEventCommand : underSystemd(env) ? journalCommand : null;
  let warned = false;
  return {
    write(e) {
      opts.log(e.level, `event ${e.id} ${e.name}: ${e.message}`);
      if (!command) return;
      void run(command(e)).then((failure) => {
        // Said once: a missing event source would otherwise add a line to every event.
        if (failure && !warned) {
          warned = true;
          opts.log('warning', `cannot write to the ${platform === 'win32' ? 'Windows Event Log' : 'systemd journal'} (${failure}); events stay in this log`);
        }
      });
    },
  };
}

export function runCommand(c: EventCommand, timeoutMs = 30_000): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn(c.file, c.args, { env: { ...process.env, ...c.env }, stdio: ['pipe', 'ignore', 'pipe'], windowsHide: true, timeout: timeoutMs });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.on('error', (e) => resolve(e.message));
    child.on('close', (code) => resolve(code === 0 ? null : err.trim().split('\n')[0] || `${c.file} exited with ${code}`));
    child.stdin.on('error', () => {});
    child.stdin.end(c.stdin ?? '');
  });
}
