// `smtp-relay config export|import`: one box's settings as a JSON file an admin keeps in version
// control and applies to the next box. config.json never holds secrets, so the export has none;
// passwords and OAuth2 secrets are set on each box into its own keychain.
import fs from 'node:fs/promises';
import type { Command, Option } from 'commander';
import { connectControl } from '../control/client.js';
import { ConfigError, parseConfig, type Config } from '../config/schema.js';
import { loadConfig, saveConfig } from '../config/store.js';
import { writeFileDurably } from '../spool/fsync.js';

export interface ConfigTransferContext {
  dataDirOption: () => Option;
  dataDirOf: (opts: { dataDir?: string }) => string;
}

export function addConfigTransferCommands(config: Command, ctx: ConfigTransferContext): void {
  config.command('export').argument('[file]', 'where to write it; standard output if omitted')
    .description('write the whole configuration (every field, defaults included; no secrets) as JSON')
    .addOption(ctx.dataDirOption()).action(async (file: string | undefined, o) => {
      const text = JSON.stringify(await loadConfig(ctx.dataDirOf(o)), null, 2) + '\n';
      if (file) {
        await writeFileDurably(file, text);
        process.stderr.write(`configuration written to ${file}\n`);
      } else {
        process.stdout.write(text);
      }
    });

  config.command('import').argument('<file>', 'a file written by config export (fields left out take their defaults)')
    .description('validate a whole configuration and apply it atomically; --dry-run shows what would change')
    .option('--dry-run', 'show the differences and change nothing')
    .addOption(ctx.dataDirOption()).action(async (file: string, o) => {
      const dir = ctx.dataDirOf(o);
      const incoming = await readConfigFile(file);
      const changes = diffConfig(await loadConfig(dir), incoming);
      for (const c of changes) process.stdout.write(`${c}\n`);
      if (o.dryRun) {
        process.stdout.write(changes.length ? `${changes.length} change${changes.length === 1 ? '' : 's'} (dry run: nothing applied)\n` : 'no changes\n');
        return;
      }
      // Through the running relay when there is one: it saves as its own account and applies at once.
      const remote = await connectControl(dir);
      if (remote) {
        try { await remote.setConfig(incoming); } finally { remote.close(); }
      } else {
        await saveConfig(dir, incoming);
      }
      process.stdout.write(`configuration imported from ${file} (${changes.length} change${changes.length === 1 ? '' : 's'})\n`);
    });
}

/** Reads and validates the whole file: every bad field is named in one error. */
async function readConfigFile(file: string): Promise<Config> {
  const text = await fs.readFile(file, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, '')); // PowerShell's Out-File and Notepad may write a BOM
  } catch (e) {
    throw new ConfigError(`${file} is not valid JSON: ${(e as Error).message}`, [{ path: '', message: 'invalid JSON' }]);
  }
  return parseConfig(raw, file);
}

/** One line per changed field, by dotted path: `smarthost.port: 587 -> 465`. Arrays compare whole. */
export function diffConfig(before: Config, after: Config): string[] {
  const a = flatten(before);
  const b = flatten(after);
  return [...new Set([...a.keys(), ...b.keys()])].sort()
    .filter((k) => a.get(k) !== b.get(k))
    .map((k) => `${k}: ${a.get(k) ?? '(none)'} -> ${b.get(k) ?? '(none)'}`);
}

function flatten(node: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
    for (const [k, v] of Object.entries(node)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, JSON.stringify(node));
  }
  return out;
}
