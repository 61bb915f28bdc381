// Starting the relay's service from the tray ("Start relay" while the service is stopped). Starting a
// service needs an administrator: on Windows the command asks through UAC, on Linux through polkit.
import { UNIT_NAME } from '../service/systemd.js';
import { SERVICE_NAME } from '../service/windows.js';

/** The command that starts this app again elevated (UAC), for a user whose window is read-only. */
export function relaunchElevatedCommand(execPath: string, args: readonly string[]): [string, string[]] {
  const quoted = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const argList = args.length ? ` -ArgumentList ${args.map(quoted).join(',')}` : '';
  return ['powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', `Start-Process -FilePath ${quoted(execPath)}${argList} -Verb RunAs`]];
}

/** The command that starts the service, elevated. */
export function startServiceCommand(platform: NodeJS.Platform): [string, string[]] {
  if (platform === 'win32') {
    return ['powershell.exe', ['-NoProfile', '-NonInteractive', '-Command',
      `Start-Process -FilePath sc.exe -ArgumentList 'start ${SERVICE_NAME}' -Verb RunAs -WindowStyle Hidden -Wait`]];
  }
  return ['pkexec', ['systemctl', 'start', UNIT_NAME]];
}
