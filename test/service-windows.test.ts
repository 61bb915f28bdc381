// The Windows service as data: what `smtp-relay service install` would hand WinSW, sc.exe and icacls.
// Windows cannot run here; these are the exact files and argument arrays, checked against the
// documented syntax (WinSW's XML, `sc.exe config|failure|failureflag`, `icacls /inheritance:r /grant:r`).
import { describe, expect, it } from 'vitest';
import {
  icaclsCommands, parseScQuery, scConfigureCommands, SERVICE_ACCOUNT, windowsInstallPlan, windowsLayout,
  windowsUninstallPlan, winswXml,
} from '../src/service/windows.js';

const HOST = 'C:\\Program Files\\SMTP Relay Tray\\resources\\relay';
const layout = windowsLayout(HOST, 'C:\\ProgramData');
const DATA = 'C:\\ProgramData\\SMTP Relay Tray';

/** The text of every <tag> element, in order. */
function elements(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => m[1] as string);
}

describe('the Windows service definition', () => {
  it('lays out Node, the relay and WinSW under resources\\relay, data under %ProgramData%', () => {
    expect(layout).toEqual({
      hostDir: HOST,
      node: `${HOST}\\node.exe`,
      bin: `${HOST}\\bin\\smtp-relay.js`,
      winsw: `${HOST}\\winsw.exe`,
      wrapper: `${HOST}\\SMTPRelayTray.exe`,
      xml: `${HOST}\\SMTPRelayTray.xml`,
      dataDir: DATA,
    });
  });

  it('has WinSW run node.exe on the bin with the service data directory, one argument per element', () => {
    const xml = winswXml(layout);
    expect(xml.startsWith('<service>\r\n')).toBe(true);
    expect(elements(xml, 'id')).toEqual(['SMTPRelayTray']);
    expect(elements(xml, 'name')).toEqual(['SMTP Relay Tray']);
    expect(elements(xml, 'executable')).toEqual([`${HOST}\\node.exe`]);
    expect(elements(xml, 'argument')).toEqual(['--max-semi-space-size=4', '--optimize-for-size', `${HOST}\\bin\\smtp-relay.js`, 'run', '--data-dir', DATA]);
    expect(elements(xml, 'workingdirectory')).toEqual([DATA]);
    expect(elements(xml, 'logpath')).toEqual([`${DATA}\\logs`]);
    expect(elements(xml, 'stoptimeout')).toEqual(['30 sec']);
    // The account, start type and recovery are the SCM's: set with sc.exe, not left to WinSW.
    expect(xml).not.toMatch(/serviceaccount|onfailure|startmode/);
  });

  it('escapes XML in paths', () => {
    const xml = winswXml(windowsLayout('D:\\R&D <apps>\\relay', 'C:\\ProgramData'));
    expect(elements(xml, 'executable')).toEqual(['D:\\R&amp;D &lt;apps&gt;\\relay\\node.exe']);
    expect(xml).not.toContain('R&D');
  });

  it('runs as the virtual account NT SERVICE\\SMTPRelayTray, delayed automatic start, restart after 10 s three times', () => {
    expect(SERVICE_ACCOUNT).toBe('NT SERVICE\\SMTPRelayTray');
    expect(scConfigureCommands()).toEqual([
      { file: 'sc.exe', args: ['config', 'SMTPRelayTray', 'obj=', 'NT SERVICE\\SMTPRelayTray', 'password=', '', 'start=', 'delayed-auto'] },
      { file: 'sc.exe', args: ['description', 'SMTPRelayTray', expect.stringContaining('SMTP relay')] },
      { file: 'sc.exe', args: ['failure', 'SMTPRelayTray', 'reset=', '86400', 'actions=', 'restart/10000/restart/10000/restart/10000'] },
      { file: 'sc.exe', args: ['failureflag', 'SMTPRelayTray', '1'] },
    ]);
  });

  it('gives the data directory an explicit ACL: service, Administrators, SYSTEM; control\\ also readable by Users', () => {
    expect(icaclsCommands(DATA)).toEqual([
      { file: 'icacls.exe', args: [DATA, '/inheritance:r', '/grant:r', 'NT SERVICE\\SMTPRelayTray:(OI)(CI)F', '*S-1-5-32-544:(OI)(CI)F', '*S-1-5-18:(OI)(CI)F'] },
      { file: 'icacls.exe', args: [`${DATA}\\control`, '/grant:r', '*S-1-5-32-545:(OI)(CI)RX'] },
    ]);
  });

  it('install: folders and ACL before the service exists, WinSW wrapper, SCM settings, then start', () => {
    const steps = windowsInstallPlan(layout, { start: true });
    const shown = steps.map((s) => (s.kind === 'run' ? `${s.command.file} ${s.command.args[0]}` : s.kind === 'write' ? `write ${s.path}` : s.kind));
    expect(shown).toEqual([
      'mkdir', 'mkdir', 'icacls.exe C:\\ProgramData\\SMTP Relay Tray', 'icacls.exe C:\\ProgramData\\SMTP Relay Tray\\control',
      'copy', 'copy', `write ${HOST}\\SMTPRelayTray.xml`, `${HOST}\\SMTPRelayTray.exe install`,
      'sc.exe config', 'sc.exe description', 'sc.exe failure', 'sc.exe failureflag', 'net.exe start',
    ]);
    expect(steps[0]).toEqual({ kind: 'mkdir', path: `${DATA}\\control` });
    expect(steps[4]).toEqual({ kind: 'copy', from: `${HOST}\\winsw.exe`, to: `${HOST}\\SMTPRelayTray.exe` });
    expect(steps.at(-1)).toEqual({ kind: 'run', command: { file: 'net.exe', args: ['start', 'SMTPRelayTray'] }, ok: [2] });
    expect(windowsInstallPlan(layout, { start: false }).at(-1)).toMatchObject({ kind: 'skip', what: 'start' });
  });

  it('uninstall: stops (waiting) before deleting, removes the wrapper, keeps the data', () => {
    const steps = windowsUninstallPlan(layout);
    expect(steps).toEqual([
      { kind: 'run', command: { file: 'net.exe', args: ['stop', 'SMTPRelayTray'] }, ok: [2] },
      { kind: 'run', command: { file: 'sc.exe', args: ['delete', 'SMTPRelayTray'] }, ok: [1060] },
      { kind: 'remove', path: `${HOST}\\SMTPRelayTray.xml` },
      { kind: 'remove', path: `${HOST}\\SMTPRelayTray.exe` },
      { kind: 'remove', path: `${HOST}\\SMTPRelayTray.exe.config` },
    ]);
    expect(JSON.stringify(steps)).not.toContain('ProgramData');
  });

  it('reads sc.exe query', () => {
    const query = (state: string) => `\r\nSERVICE_NAME: SMTPRelayTray \r\n        TYPE               : 10  WIN32_OWN_PROCESS  \r\n        STATE              : ${state}\r\n                                (STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)\r\n        WIN32_EXIT_CODE    : 0  (0x0)\r\n`;
    expect(parseScQuery(0, query('4  RUNNING '))).toBe('running');
    expect(parseScQuery(0, query('1  STOPPED '))).toBe('stopped');
    expect(parseScQuery(0, query('3  STOP_PENDING '))).toBe('stopping');
    expect(parseScQuery(1060, '[SC] EnumQueryServicesStatus:OpenService FAILED 1060:\r\n\r\nThe specified service does not exist as an installed service.\r\n')).toBe('not installed');
    expect(() => parseScQuery(5, '[SC] OpenSCManager FAILED 5:\r\n\r\nAccess is denied.\r\n')).toThrow(/exit 5.*Access is denied/s);
  });
});
