// `smtp-relay service …` on Windows: runs the steps windows.ts plans (as an administrator).
import fs from 'node:fs';
import { runCommand, runPlan } from './plan.js';
import {
  NET_ALREADY, parseScQuery, queryCommand, SERVICE_NAME, startCommand, stopCommand, windowsInstallPlan,
  windowsUninstallPlan, type WindowsLayout,
} from './windows.js';
import type { ServiceHost } from './host.js';

export function windowsHost(l: WindowsLayout): ServiceHost {
  return {
    async install(start, say) {
      for (const [what, file] of [['Node for Windows', l.node], ['the relay', l.bin], ['WinSW', l.winsw], ['WinSW\'s .NET runtime file', `${l.winsw}.config`]] as const) {
        if (!fs.existsSync(file)) throw new Error(`${what} is not at ${file}: install the service from the per-machine installation of SMTP Relay Tray (its resources\\relay folder), or give WinSW with --winsw PATH`);
      }
      await runPlan(windowsInstallPlan(l, { start }), say);
      say(`data directory: ${l.dataDir} (service account, Administrators and SYSTEM only; control\\ readable by Users)`);
    },
    async uninstall(say) {
      await runPlan(windowsUninstallPlan(l), say);
      say(`the data directory ${l.dataDir} (configuration and any queued mail) was kept`);
    },
    async start(say) {
      await runPlan([{ kind: 'run', command: startCommand(), ok: [NET_ALREADY] }], say);
    },
    async stop(say) {
      await runPlan([{ kind: 'run', command: stopCommand(), ok: [NET_ALREADY] }], say);
    },
    async status() {
      const r = await runCommand(queryCommand());
      const state = parseScQuery(r.code, r.stdout);
      return { running: state === 'running', text: state === 'not installed' ? `${SERVICE_NAME}: not installed` : `${SERVICE_NAME}: installed, ${state}` };
    },
  };
}
