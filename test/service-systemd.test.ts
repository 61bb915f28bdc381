// `smtp-relay service` on Linux: the unit it writes passes `systemd-analyze verify` with real binaries,
// carries the hardening, and uninstall removes it. systemd is not PID 1 on these machines, so the
// systemctl steps are planned (tested as data) and reported as skipped when the CLI runs.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { linuxInstallPlan, linuxUninstallPlan, systemdUnit, UNIT_NAME } from '../src/service/systemd.js';
import { BIN, cli } from './support/cli.js';

const systemdIsInit = fs.existsSync('/run/systemd/system');
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true });
});
async function tempDir(prefix = 'units-'): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}

function verify(file: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('systemd-analyze', ['verify', file], (err, _out, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stderr }));
  });
}

/** [Service] etc. as key -> values (a key may repeat). */
function directives(unit: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of unit.split('\n')) {
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (kv) m.set(kv[1] as string, [...(m.get(kv[1] as string) ?? []), kv[2] as string]);
  }
  return m;
}

describe('smtp-relay service on Linux', () => {
  it.skipIf(systemdIsInit)('install writes a unit that systemd-analyze verifies; status reads it; uninstall removes it', async () => {
    const unitDir = await tempDir();
    const file = path.join(unitDir, UNIT_NAME);
    // `daemon` exists on every Debian system (base-passwd), so no user is created by the test.
    const installed = await cli(['service', 'install', '--unit-dir', unitDir, '--user', 'daemon']);
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stdout).toContain(`write ${file}`);
    expect(installed.stdout).toMatch(/skipped: systemctl daemon-reload; systemctl enable --now smtp-relay \(systemd is not running/);

    const unit = await fsp.readFile(file, 'utf8');
    const d = directives(unit);
    // The relay's V8 flags are Node's own arguments: the service does not depend on NODE_OPTIONS.
    expect(d.get('ExecStart')).toEqual([`${process.execPath} --max-semi-space-size=4 --optimize-for-size ${BIN} run --data-dir /var/lib/smtp-relay`]);
    expect(d.get('User')).toEqual(['daemon']);
    for (const [key, value] of [
      ['ProtectSystem', 'strict'], ['NoNewPrivileges', 'yes'], ['StateDirectory', 'smtp-relay'], ['StateDirectoryMode', '0711'],
      ['ProtectHome', 'yes'], ['PrivateTmp', 'yes'], ['RestrictAddressFamilies', 'AF_UNIX AF_INET AF_INET6'],
      ['AmbientCapabilities', 'CAP_NET_BIND_SERVICE'], ['CapabilityBoundingSet', 'CAP_NET_BIND_SERVICE'],
      ['Restart', 'on-failure'], ['KillSignal', 'SIGTERM'], ['TimeoutStopSec', '30'], ['WantedBy', 'multi-user.target'],
    ]) expect(d.get(key as string), key).toEqual([value]);

    const checked = await verify(file);
    expect(checked.stderr).toBe(''); // verify exits 0 on unknown keys or bad values, but complains on stderr
    expect(checked.code).toBe(0);

    const status = await cli(['service', 'status', '--unit-dir', unitDir, '--user', 'daemon']);
    expect(status.stdout).toBe(`${UNIT_NAME}: installed (${file}), state unknown: systemd is not running on this machine\n`);
    expect(status.code).toBe(1);

    const removed = await cli(['service', 'uninstall', '--unit-dir', unitDir]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain('/var/lib/smtp-relay (configuration and any queued mail) was kept');
    expect(fs.existsSync(file)).toBe(false);
    const after = await cli(['service', 'status', '--unit-dir', unitDir]);
    expect(after.stdout).toBe(`${UNIT_NAME}: not installed (no ${file})\n`);
    expect(after.code).toBe(1);
  }, 60_000);

  it('quotes ExecStart paths with blanks and specifiers so that systemd runs the right file', async () => {
    const dir = await tempDir('relay app %i ');
    const node = path.join(dir, 'node 24');
    await fsp.symlink(process.execPath, node);
    const file = path.join(dir, UNIT_NAME);
    await fsp.writeFile(file, systemdUnit({ node, bin: path.join(dir, 'bin', 'smtp-relay.js'), user: 'daemon' }));
    const ok = await verify(file);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    // The same check fails when the binary the unit names is not there.
    await fsp.writeFile(file, systemdUnit({ node: `${node}-missing`, bin: BIN, user: 'daemon' }));
    const missing = await verify(file);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('is not executable');
  });

  it('plans the service user, then the unit, then systemctl when systemd runs', () => {
    const base = { unitDir: '/etc/systemd/system', user: 'smtp-relay', node: '/usr/bin/node', bin: '/usr/lib/smtp-relay/bin/smtp-relay.js' };
    const steps = linuxInstallPlan({ ...base, userExists: false, systemd: true, start: true });
    expect(steps.map((s) => s.kind)).toEqual(['run', 'write', 'run', 'run']);
    expect(steps[0]).toEqual({ kind: 'run', command: { file: 'useradd', args: ['--system', '--user-group', '--no-create-home', '--home-dir', '/var/lib/smtp-relay', '--shell', '/usr/sbin/nologin', '--comment', 'SMTP Relay Tray', 'smtp-relay'] } });
    expect(steps[1]).toMatchObject({ kind: 'write', path: '/etc/systemd/system/smtp-relay.service' });
    expect(steps.slice(2)).toEqual([
      { kind: 'run', command: { file: 'systemctl', args: ['daemon-reload'] } },
      { kind: 'run', command: { file: 'systemctl', args: ['enable', '--now', UNIT_NAME] } },
    ]);
    const noStart = linuxInstallPlan({ ...base, userExists: true, systemd: true, start: false });
    expect(noStart.map((s) => s.kind)).toEqual(['write', 'run', 'run']);
    expect(noStart[2]).toEqual({ kind: 'run', command: { file: 'systemctl', args: ['enable', UNIT_NAME] } });

    expect(linuxUninstallPlan({ unitDir: base.unitDir, systemd: true })).toEqual([
      { kind: 'run', command: { file: 'systemctl', args: ['disable', '--now', UNIT_NAME] }, ok: [1, 5] },
      { kind: 'remove', path: '/etc/systemd/system/smtp-relay.service' },
      { kind: 'run', command: { file: 'systemctl', args: ['daemon-reload'] } },
    ]);
  });
});
