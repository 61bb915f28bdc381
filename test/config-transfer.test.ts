// `smtp-relay config export|import`: settings that travel from one box to the next, through the
// real command and real files.
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveConfig } from '../src/config/store.js';
import { cli, runRelay } from './support/cli.js';
import { freePort, tempDataDir, waitFor } from './support/relay.js';

let work: string;
let boxA: string;
let boxB: string;

beforeAll(async () => {
  work = await tempDataDir();
  boxA = path.join(work, 'a');
  boxB = path.join(work, 'b');
  await saveConfig(boxA, {
    listen: { port: 2525, allowedClients: ['127.0.0.0/8', '10.1.0.0/16'] },
    delivery: { retrySchedule: '1m,5m,1h*3' },
    smarthost: { host: 'smtp.office365.com', port: 587, auth: { method: 'password', username: 'jts@contoso.com' } },
    rewrite: { senders: [{ match: '@jts.localdomain', replace: 'jts@contoso.com' }] },
  });
});

afterAll(() => fs.rm(work, { recursive: true, force: true }));

const configOf = (dir: string) => fs.readFile(path.join(dir, 'config.json'), 'utf8');

describe('config export and import', () => {
  it('export -> import gives the identical configuration on another box', async () => {
    const file = path.join(work, 'relay-config.json');
    const out = await cli(['config', 'export', file, '--data-dir', boxA]);
    expect(out, out.stderr).toMatchObject({ code: 0 });
    const exported = JSON.parse(await fs.readFile(file, 'utf8'));
    expect(exported.smarthost.auth).toMatchObject({ method: 'password', username: 'jts@contoso.com', mechanism: 'auto' }); // defaults included
    const stdout = await cli(['config', 'export', '--data-dir', boxA]);
    expect(JSON.parse(stdout.stdout)).toEqual(exported);

    const dry = await cli(['config', 'import', file, '--dry-run', '--data-dir', boxB]);
    expect(dry, dry.stderr).toMatchObject({ code: 0 });
    expect(dry.stdout).toContain('smarthost.host: "" -> "smtp.office365.com"\n');
    expect(dry.stdout).toContain('listen.allowedClients: ["127.0.0.0/8","::1/128"] -> ["127.0.0.0/8","10.1.0.0/16"]\n');
    expect(dry.stdout).toMatch(/\n\d+ changes \(dry run: nothing applied\)\n$/);
    await expect(fs.access(path.join(boxB, 'config.json'))).rejects.toThrow(/ENOENT/);

    const imp = await cli(['config', 'import', file, '--data-dir', boxB]);
    expect(imp, imp.stderr).toMatchObject({ code: 0 });
    expect(await configOf(boxB)).toBe(await configOf(boxA));
    expect((await cli(['config', 'import', file, '--dry-run', '--data-dir', boxB])).stdout).toBe('no changes\n');
  });

  it('a bad file is refused naming every bad field, and config.json stays as it was', async () => {
    const before = await configOf(boxB);
    const file = path.join(work, 'bad.json');
    await fs.writeFile(file, '\uFEFF' + JSON.stringify({ listen: { port: 70000 }, smarthost: { security: 'ssl', hots: 'x' }, delivery: { maxQueueTime: '5 days' } }));
    const r = await cli(['config', 'import', file, '--data-dir', boxB]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('listen.port: must be at most 65535');
    expect(r.stderr).toContain('smarthost.security: must be one of "starttls", "tls", "opportunistic", "none"');
    expect(r.stderr).toContain('smarthost: unknown field "hots"');
    expect(r.stderr).toContain('delivery.maxQueueTime: "5 days" is not a duration');
    expect(await configOf(boxB)).toBe(before);

    await fs.writeFile(file, JSON.stringify({ smarthost: { host: 'x', auth: { password: 'hunter2' } } }));
    const secret = await cli(['config', 'import', file, '--data-dir', boxB]);
    expect(secret.code).toBe(1);
    expect(secret.stderr).toMatch(/smarthost\.auth\.password: secrets are never stored in config\.json/);
    await fs.writeFile(file, '{ "listen": ');
    expect((await cli(['config', 'import', file, '--data-dir', boxB])).stderr).toMatch(/bad\.json is not valid JSON/);
    expect(await configOf(boxB)).toBe(before);
  });

  it('a running relay takes the imported configuration at once', async () => {
    const dir = path.join(work, 'running');
    const [oldPort, newPort] = [await freePort(), await freePort()];
    await saveConfig(dir, { listen: { port: oldPort } });
    const relay = await runRelay(dir);
    try {
      const file = path.join(work, 'new-port.json');
      await fs.writeFile(file, JSON.stringify({ listen: { port: newPort } }));
      const r = await cli(['config', 'import', file, '--data-dir', dir]);
      expect(r, r.stderr).toMatchObject({ code: 0 });
      expect(r.stdout).toContain(`listen.port: ${oldPort} -> ${newPort}\n`);
      await waitFor(() => new Promise<boolean>((resolve) => {
        const s = net.connect(newPort, '127.0.0.1', () => { s.destroy(); resolve(true); }).on('error', () => resolve(false));
      }), 10_000, 'the relay listening on the imported port');
    } finally {
      relay.child.kill('SIGTERM');
      await relay.exited;
    }
  });
});
