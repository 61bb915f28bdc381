// What the `smtp-relay` command and `npm test` do before any relay work: refuse an old Node with a
// plain message, report the version, and announce readiness exactly once on stdout.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cli } from './support/cli.js';
import { freePort, tempDataDir } from './support/relay.js';

const repo = path.join(import.meta.dirname, '..');
const pkg = JSON.parse(await fs.readFile(path.join(repo, 'package.json'), 'utf8')) as { version: string; scripts: Record<string, string> };

/** A Node older than 22.12 on this machine (Debian's /usr/bin/node is 20 here), to run the real command with. */
const oldNode = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => {
  if (!existsSync(p)) return false;
  const [major = 0, minor = 0] = execFileSync(p, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim().split('.').map(Number);
  return major < 22 || (major === 22 && minor < 12);
});

function runWith(node: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(node, args, { cwd: repo, timeout: 30_000 }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }));
  });
}

describe.skipIf(!oldNode)(`on an old Node (${oldNode ?? 'none installed'})`, () => {
  it('smtp-relay stops at once and names the Node it needs', async () => {
    const r = await runWith(oldNode as string, [BIN, '--version']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^SMTP Relay Tray needs Node\.js 22\.12 or later \(24 LTS recommended\); this is Node\.js 2[01]\./);
    expect(r.stdout).toBe('');
  });

  it('npm test and npm install stop at the same check before anything else runs', async () => {
    for (const script of ['pretest', 'prepare']) expect(pkg.scripts[script]).toMatch(/^node scripts\/require-node\.js( &&|$)/);
    const r = await runWith(oldNode as string, [path.join(repo, 'scripts/require-node.js')]);
    expect([r.code, r.stderr]).toEqual([1, expect.stringContaining('needs Node.js 22.12 or later')]);
  });
});

describe('smtp-relay', () => {
  it('--version prints the package version', async () => {
    const r = await cli(['--version']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, `${pkg.version}\n`, '']);
  });

  const dirs: string[] = [];
  afterAll(async () => { for (const d of dirs) await fs.rm(d, { recursive: true, force: true }); });

  it('run announces readiness once on stdout, with the log on stderr', async () => {
    const dataDir = await tempDataDir();
    dirs.push(dataDir);
    const port = await freePort();
    expect((await cli(['config', 'set', 'listen.port', String(port), '--data-dir', dataDir])).code).toBe(0);
    const child = spawn(process.execPath, [BIN, 'run', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const until = Date.now() + 20_000;
    while (!stdout.includes('\n') && Date.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout).toBe(`listening on 127.0.0.1:${port}\n`);
    expect(stderr).toMatch(new RegExp(`info listener ready on 127\\.0\\.0\\.1:${port}\\n`));
    expect(stderr).toMatch(/info stopped\n$/);
  });
});
