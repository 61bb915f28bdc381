// Where the data directory is, and reading/writing config.json in it.
// The tray app, the CLI and the service share this folder, this file format and this code.
import crypto from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileDurably } from '../spool/fsync.js';
import { ConfigError, parseConfig, type Config } from './schema.js';

export const PRODUCT_NAME = 'SMTP Relay Tray';
export const CONFIG_FILE = 'config.json';

/** The service's data directory when the service is installed, else the Electron userData path for our
 *  product name, so the CLI and the tray app find the same folder. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.SMTP_RELAY_DATA_DIR) return path.resolve(env.SMTP_RELAY_DATA_DIR);
  // On a server with the service installed, that is the relay an admin means.
  const service = serviceDataDir(env, platform);
  if (existsSync(path.join(service, 'control', 'status.json'))) return service;
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA || path.join(home, 'AppData', 'Roaming'), PRODUCT_NAME);
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', PRODUCT_NAME);
  return path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), PRODUCT_NAME);
}

/** Where the relay service keeps its data (per-machine install, `smtp-relay service install`);
 *  SMTP_RELAY_SERVICE_DATA_DIR overrides it, for tests and unusual installs. */
export function serviceDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.SMTP_RELAY_SERVICE_DATA_DIR) return path.resolve(env.SMTP_RELAY_SERVICE_DATA_DIR);
  if (platform === 'win32') return path.win32.join(env.ProgramData || env.PROGRAMDATA || 'C:\\ProgramData', PRODUCT_NAME);
  return '/var/lib/smtp-relay';
}

export function configPath(dataDir: string): string {
  return path.join(dataDir, CONFIG_FILE);
}

/** Reads config.json; a missing file means all defaults. A bad file throws ConfigError and is left untouched. */
export async function loadConfig(dataDir: string): Promise<Config> {
  const file = configPath(dataDir);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return parseConfig({}, file);
    throw e;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, '')); // Notepad may save a BOM
  } catch (e) {
    throw new ConfigError(`${file} is not valid JSON: ${(e as Error).message}`, [{ path: '', message: 'invalid JSON' }]);
  }
  return parseConfig(raw, file);
}

/** Validates, then replaces config.json atomically (temp file, fsync, rename). */
export async function saveConfig(dataDir: string, config: unknown): Promise<Config> {
  const file = configPath(dataDir);
  const valid = parseConfig(config, file);
  await fs.mkdir(dataDir, { recursive: true });
  await writeFileDurably(file, JSON.stringify(valid, null, 2) + '\n');
  return valid;
}

/** A short fingerprint of a configuration: which version a writer based its change on. */
export function configRevision(config: Config): string {
  return crypto.createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
}

/** Reads a value by dotted path ("smarthost.port"); undefined if there is no such field. */
export function getConfigValue(config: Config, key: string): unknown {
  let node: unknown = config;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/**
 * Returns a copy of config with one field changed. The value is read as JSON when it parses
 * (numbers, booleans, arrays), else as a plain string, so `config set smarthost.port 465` and
 * `config set smarthost.host smtp.office365.com` both do what an admin means.
 */
export function withConfigValue(config: Config, key: string, valueText: string): unknown {
  const parts = key.split('.');
  if (getConfigValue(config, key) === undefined) {
    throw new ConfigError(`unknown setting "${key}"; see the README for the list of settings`, [{ path: key, message: 'unknown field' }]);
  }
  let value: unknown;
  try { value = JSON.parse(valueText); } catch { value = valueText; }
  if (typeof getConfigValue(config, key) === 'string' && typeof value !== 'string') value = valueText;
  const copy: Record<string, unknown> = structuredClone(config);
  const field = parts.pop() ?? key;
  let node = copy;
  for (const part of parts) {
    const next = node[part];
    // getConfigValue found the key, so every step on the way is an object.
    if (typeof next !== 'object' || next === null) throw new Error(`internal error: ${part} in ${key} is not a section`);
    node = next as Record<string, unknown>;
  }
  node[field] = value;
  return copy;
}
