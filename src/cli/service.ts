// `smtp-relay service install|uninstall|start|stop|status`: the relay as a systemd service on Linux,
// a Windows service (WinSW hosting Node) on Windows. Both run `smtp-relay run` on the service data
// directory; the steps and files are built in src/service/.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { ServiceHost } from '../service/host.js';
import { linuxHost } from '../service/linux-host.js';
import { DEFAULT_UNIT_DIR, DEFAULT_USER } from '../service/systemd.js';
import { windowsHost } from '../service/windows-host.js';
import { windowsLayout } from '../service/windows.js';

/** bin/smtp-relay.js of this copy (dist/cli/service.js -> ../../bin). */
const BIN = fileURLToPath(new URL('../../bin/smtp-relay.js', import.meta.url));

interface Options {
  unitDir: string;
  user: string;
  winsw?: string;
  start: boolean;
}

function hostFor(o: Options): ServiceHost {
  if (process.platform === 'linux') return linuxHost({ unitDir: path.resolve(o.unitDir), user: o.user, node: process.execPath, bin: BIN });
  if (process.platform === 'win32') {
    const layout = windowsLayout(path.dirname(path.dirname(BIN)), process.env.ProgramData || 'C:\\ProgramData');
    return windowsHost(o.winsw ? { ...layout, winsw: path.resolve(o.winsw) } : layout);
  }
  throw new Error(`smtp-relay service supports Linux (systemd) and Windows, not ${process.platform}: run \`smtp-relay run\` under your service manager`);
}

const say = (line: string) => process.stdout.write(`${line}\n`);

export function addServiceCommands(program: Command): void {
  const service = program.command('service').description('install and control the relay as a system service (systemd / Windows service)');
  const sub = (name: string, description: string) => service.command(name).description(description)
    .option('--unit-dir <dir>', 'Linux: where the systemd unit goes', DEFAULT_UNIT_DIR)
    .option('--user <name>', 'Linux: the account the service runs as (created if missing)', DEFAULT_USER)
    .option('--winsw <file>', 'Windows: WinSW executable (default: resources\\relay\\winsw.exe of the installation)');

  sub('install', 'install the service (started at boot, restarted after a crash) and start it')
    .option('--no-start', 'install only')
    .action(async (o: Options) => hostFor(o).install(o.start, say));
  sub('uninstall', 'stop and remove the service (the data directory and queued mail stay)')
    .action(async (o: Options) => hostFor(o).uninstall(say));
  sub('start', 'start the service').action(async (o: Options) => hostFor(o).start(say));
  sub('stop', 'stop the service gracefully').action(async (o: Options) => hostFor(o).stop(say));
  sub('status', 'installed? running? (exit 0 only when running)').action(async (o: Options) => {
    const s = await hostFor(o).status();
    say(s.text);
    if (!s.running) process.exitCode = 1;
  });
}
