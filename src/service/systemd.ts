// The Linux service, as data: the hardened systemd unit and the steps that install or remove it.
// Pure, like windows.ts; linux-host.ts looks at the machine and runs the steps.
import path from 'node:path';
import { RELAY_V8_FLAGS } from '../host/v8-flags.js';
import type { Command, Step } from './plan.js';

export const UNIT_NAME = 'smtp-relay.service';
export const DEFAULT_UNIT_DIR = '/etc/systemd/system';
export const DEFAULT_USER = 'smtp-relay';
/** StateDirectory=smtp-relay: systemd creates it, owned by the service user, before every start. */
export const SERVICE_DATA_DIR = '/var/lib/smtp-relay';

/** One ExecStart= word: `%` and `$` are systemd specifiers, anything with blanks or quotes is quoted. */
function execWord(s: string): string {
  const escaped = s.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /[\s"'\\;]/.test(escaped) ? `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : escaped;
}

export interface UnitOptions {
  /** Absolute paths: the service starts Node on the bin itself (no npm, no shell: signals reach the relay). */
  node: string;
  bin: string;
  user: string;
}

export function systemdUnit(o: UnitOptions): string {
  const exec = [o.node, ...RELAY_V8_FLAGS, o.bin, 'run', '--data-dir', SERVICE_DATA_DIR].map(execWord).join(' ');
  return `# Written by \`smtp-relay service install\`; \`smtp-relay service uninstall\` removes it.
[Unit]
Description=SMTP Relay Tray: local SMTP relay to a smarthost
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${o.user}
Group=${o.user}
ExecStart=${exec}
# The data directory: /var/lib/smtp-relay, 0711 (others may reach control/status.json, not list).
StateDirectory=smtp-relay
StateDirectoryMode=0711
# \`run\` stops gracefully on SIGTERM: no new mail, deliveries in flight get 10 s, the spool closes.
KillSignal=SIGTERM
TimeoutStopSec=30
Restart=on-failure
RestartSec=10
# Port 25 without root, and nothing else.
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native

[Install]
WantedBy=multi-user.target
`;
}

const systemctl = (...args: string[]): Command => ({ file: 'systemctl', args });

export interface LinuxInstall extends UnitOptions {
  unitDir: string;
  userExists: boolean;
  /** systemd is PID 1 (sd_booted: /run/systemd/system exists). */
  systemd: boolean;
  start: boolean;
}

const noSystemd = 'systemd is not running on this machine';

export function linuxInstallPlan(o: LinuxInstall): Step[] {
  const steps: Step[] = [];
  if (!o.userExists) {
    steps.push({ kind: 'run', command: { file: 'useradd', args: ['--system', '--user-group', '--no-create-home', '--home-dir', SERVICE_DATA_DIR, '--shell', '/usr/sbin/nologin', '--comment', 'SMTP Relay Tray', o.user] } });
  }
  steps.push({ kind: 'write', path: path.join(o.unitDir, UNIT_NAME), text: systemdUnit(o) });
  if (!o.systemd) {
    steps.push({ kind: 'skip', what: 'systemctl daemon-reload; systemctl enable --now smtp-relay', why: noSystemd });
    return steps;
  }
  steps.push({ kind: 'run', command: systemctl('daemon-reload') });
  steps.push(o.start
    ? { kind: 'run', command: systemctl('enable', '--now', UNIT_NAME) }
    : { kind: 'run', command: systemctl('enable', UNIT_NAME) });
  return steps;
}

/** Stops and removes the unit; the data directory and the user stay (queued mail is not deleted). */
export function linuxUninstallPlan(o: { unitDir: string; systemd: boolean }): Step[] {
  const file = path.join(o.unitDir, UNIT_NAME);
  if (!o.systemd) {
    return [
      { kind: 'skip', what: 'systemctl disable --now smtp-relay', why: noSystemd },
      { kind: 'remove', path: file },
    ];
  }
  return [
    // Exit 5: no such unit loaded; uninstalling twice is not an error.
    { kind: 'run', command: systemctl('disable', '--now', UNIT_NAME), ok: [1, 5] },
    { kind: 'remove', path: file },
    { kind: 'run', command: systemctl('daemon-reload') },
  ];
}

export const startCommand = (): Command => systemctl('start', UNIT_NAME);
export const stopCommand = (): Command => systemctl('stop', UNIT_NAME);
export const isActiveCommand = (): Command => systemctl('is-active', UNIT_NAME);

/** Folders ProtectHome=yes hides from the service: a Node or an app installed there cannot start. */
export function hiddenByProtectHome(file: string): boolean {
  return ['/home', '/root', '/run/user'].some((d) => file === d || file.startsWith(`${d}/`));
}
