// `smtp-relay service …` on Linux: looks at the machine (systemd running? the user there?) and runs
// the steps systemd.ts plans.
import fs from 'node:fs';
import path from 'node:path';
import { runCommand, runPlan } from './plan.js';
import {
  hiddenByProtectHome, isActiveCommand, linuxInstallPlan, linuxUninstallPlan, startCommand, stopCommand, UNIT_NAME,
} from './systemd.js';
import type { ServiceHost } from './host.js';

/** sd_booted(3): systemd is the init system when this folder exists. */
export function systemdRunning(): boolean {
  return fs.existsSync('/run/systemd/system');
}

async function userExists(name: string): Promise<boolean> {
  return (await runCommand({ file: 'getent', args: ['passwd', name] })).code === 0;
}

function needSystemd(): void {
  if (!systemdRunning()) throw new Error(`systemd is not running on this machine: start the relay with \`smtp-relay run --data-dir /var/lib/smtp-relay\` under your service manager`);
}

export function linuxHost(o: { unitDir: string; user: string; node: string; bin: string }): ServiceHost {
  const unitFile = path.join(o.unitDir, UNIT_NAME);
  return {
    async install(start, say) {
      for (const file of [o.node, o.bin]) {
        if (hiddenByProtectHome(file)) say(`warning: ${file} is in a home folder, which the service cannot see (ProtectHome=yes): install the app system-wide (npm install -g) before the service starts`);
      }
      const steps = linuxInstallPlan({ ...o, userExists: await userExists(o.user), systemd: systemdRunning(), start });
      await runPlan(steps, say);
    },
    async uninstall(say) {
      await runPlan(linuxUninstallPlan({ unitDir: o.unitDir, systemd: systemdRunning() }), say);
      say('the data directory /var/lib/smtp-relay (configuration and any queued mail) was kept');
    },
    async start(say) {
      needSystemd();
      await runPlan([{ kind: 'run', command: startCommand() }], say);
    },
    async stop(say) {
      needSystemd();
      await runPlan([{ kind: 'run', command: stopCommand() }], say);
    },
    async status() {
      if (!fs.existsSync(unitFile)) return { running: false, text: `${UNIT_NAME}: not installed (no ${unitFile})` };
      const installed = `${UNIT_NAME}: installed (${unitFile})`;
      if (!systemdRunning()) return { running: false, text: `${installed}, state unknown: systemd is not running on this machine` };
      const r = await runCommand(isActiveCommand());
      const state = r.stdout.trim() || 'unknown';
      return { running: r.code === 0, text: `${installed}, ${state === 'active' ? 'running' : state === 'inactive' ? 'stopped' : state}` };
    },
  };
}
