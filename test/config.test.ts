import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDuration, parseSchedule } from '../src/config/duration.js';
import { ConfigError, defaultConfig, parseConfig } from '../src/config/schema.js';
import { defaultDataDir, loadConfig, saveConfig, withConfigValue } from '../src/config/store.js';

describe('durations and retry schedules', () => {
  it('parses the units admins write', () => {
    expect(parseDuration('5d')).toBe(5 * 86_400_000);
    expect(parseDuration('1h30m')).toBe(90 * 60_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration(' 2H ')).toBe(7_200_000);
  });

  it('refuses what is not a duration, saying where', () => {
    expect(() => parseDuration('5 days')).toThrow(/not a duration/);
    expect(() => parseDuration('1h30')).toThrow(/at "30"/);
    expect(() => parseDuration('')).toThrow(/empty/);
  });

  it('expands a schedule with repeats', () => {
    expect(parseSchedule('1m,2m,5m*2,1h')).toEqual([60_000, 120_000, 300_000, 300_000, 3_600_000]);
    expect(() => parseSchedule('1m,,2m')).toThrow(/empty step/);
    expect(() => parseSchedule('0s')).toThrow(/longer than zero/);
    expect(() => parseSchedule('1m*x')).toThrow(/repeat count/);
  });
});

describe('config schema', () => {
  it('fills every default of the contract from an empty file', () => {
    const c = defaultConfig();
    expect(c.version).toBe(1);
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 25, allowedClients: ['127.0.0.0/8', '::1/128'], maxMessageBytes: 26_214_400, maxRecipients: 100, maxClients: 50, maxConnectionsPerClient: 25, maxSessionTime: '10m', bareLineEndings: 'normalize' });
    expect(c.delivery).toMatchObject({ mode: 'smarthost', retrySchedule: '1m,2m,5m,10m,20m,30m,1h,2h,4h', maxQueueTime: '5d', delayWarningAfter: '4h', ipFamily: 'auto' });
    expect(c.smarthost).toMatchObject({ port: 587, security: 'starttls', verifyCertificate: true, maxConnections: 3, auth: { method: 'none', mechanism: 'auto' } });
    expect(c.alerts.stuckAfterMinutes).toBe(15);
  });

  it('keeps given values and defaults the rest of a partial object', () => {
    const c = parseConfig({ smarthost: { host: 'smtp.office365.com', auth: { method: 'password', username: 'jts@contoso.com' } } });
    expect(c.smarthost.host).toBe('smtp.office365.com');
    expect(c.smarthost.port).toBe(587);
    expect(c.smarthost.auth.mechanism).toBe('auto');
  });

  const bad: [string, unknown, RegExp][] = [
    ['smarthost.port', { smarthost: { port: 70000 } }, /smarthost\.port: must be at most 65535/],
    ['smarthost.port as text', { smarthost: { port: '587' } }, /smarthost\.port: must be a number/],
    ['smarthost.security', { smarthost: { security: 'ssl' } }, /smarthost\.security: must be one of "starttls", "tls", "opportunistic", "none"/],
    ['a typo', { smarthost: { hots: 'x' } }, /smarthost: unknown field "hots"/],
    ['delivery.maxQueueTime', { delivery: { maxQueueTime: '5 days' } }, /delivery\.maxQueueTime: "5 days" is not a duration/],
    ['delivery.retrySchedule', { delivery: { retrySchedule: '1m,,5m' } }, /delivery\.retrySchedule: .*empty step/],
    ['listen.allowedClients[1]', { listen: { allowedClients: ['127.0.0.0/8', '10.0.0.0/33'] } }, /listen\.allowedClients\[1\]: "10\.0\.0\.0\/33" is not an address range/],
    ['listen.host', { listen: { host: 'localhost' } }, /listen\.host: must be an IP address/],
    ['username with password auth', { smarthost: { host: 'h', auth: { method: 'password' } } }, /smarthost\.auth\.username: is required/],
    ['implicit TLS on 587', { smarthost: { security: 'tls', port: 587 } }, /smarthost\.security: "tls" \(implicit TLS\) is for port 465/],
    ['a newer version', { version: 2 }, /version: 2 was written by a newer SMTP Relay Tray/],
  ];
  it.each(bad)('names the field: %s', (_name, raw, message) => {
    expect(() => parseConfig(raw)).toThrow(ConfigError);
    expect(() => parseConfig(raw)).toThrow(message);
  });

  it('refuses a secret in config.json and points to the keychain', () => {
    expect(() => parseConfig({ smarthost: { auth: { method: 'password', username: 'u', password: 'hunter2' } } }))
      .toThrow(/smarthost\.auth\.password: secrets are never stored in config\.json.*password set/);
  });
});

describe('config.json on disk', () => {
  let dir: string;
  beforeEach(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relay-config-')); });
  afterEach(async () => { await fs.rm(dir, { recursive: true, force: true }); });

  it('gives defaults when the file does not exist, and round-trips a saved config', async () => {
    expect((await loadConfig(dir)).listen.port).toBe(25);
    await saveConfig(dir, { listen: { port: 2525 } });
    const text = await fs.readFile(path.join(dir, 'config.json'), 'utf8');
    expect(JSON.parse(text)).toMatchObject({ version: 1, listen: { port: 2525 } });
    expect((await loadConfig(dir)).listen.port).toBe(2525);
    expect((await fs.readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses a malformed file with the field and leaves it untouched', async () => {
    const file = path.join(dir, 'config.json');
    const text = '{ "version": 1, "smarthost": { "port": "five-eight-seven" } }';
    await fs.writeFile(file, text);
    await expect(loadConfig(dir)).rejects.toThrow(/smarthost\.port/);
    await expect(saveConfig(dir, { smarthost: { port: -1 } })).rejects.toThrow(/smarthost\.port: must be at least 1/);
    expect(await fs.readFile(file, 'utf8')).toBe(text);
  });

  it('reports broken JSON as such', async () => {
    await fs.writeFile(path.join(dir, 'config.json'), '{ "listen": ');
    await expect(loadConfig(dir)).rejects.toThrow(/is not valid JSON/);
  });

  it('accepts a file saved by Notepad with a BOM', async () => {
    await fs.writeFile(path.join(dir, 'config.json'), '\uFEFF{"listen":{"port":2526}}');
    expect((await loadConfig(dir)).listen.port).toBe(2526);
  });

  it('sets one value by path, typed like the field', () => {
    const c = defaultConfig();
    expect(withConfigValue(c, 'smarthost.port', '465')).toMatchObject({ smarthost: { port: 465 } });
    expect(withConfigValue(c, 'smarthost.host', 'smtp.office365.com')).toMatchObject({ smarthost: { host: 'smtp.office365.com' } });
    expect(withConfigValue(c, 'smarthost.host', '123')).toMatchObject({ smarthost: { host: '123' } });
    expect(withConfigValue(c, 'smarthost.verifyCertificate', 'false')).toMatchObject({ smarthost: { verifyCertificate: false } });
    expect(() => withConfigValue(c, 'smarthost.prot', '1')).toThrow(/unknown setting "smarthost\.prot"/);
  });

  it('finds the same data directory as the Electron app', () => {
    expect(defaultDataDir({ APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }, 'win32')).toBe(path.join('C:\\Users\\a\\AppData\\Roaming', 'SMTP Relay Tray'));
    expect(defaultDataDir({}, 'linux')).toBe(path.join(os.homedir(), '.config', 'SMTP Relay Tray'));
    expect(defaultDataDir({ SMTP_RELAY_DATA_DIR: '/srv/relay' }, 'linux')).toBe('/srv/relay');
  });
});
