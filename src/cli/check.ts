// `smtp-relay check`: the monitoring plugin. Its exit codes are the plugin API's (0 OK, 1 WARNING,
// 2 CRITICAL, 3 UNKNOWN), not the CLI's, so it reads its options itself: a mistyped option must give
// UNKNOWN with a line the monitoring shows, not commander's usage error and exit 2.
import fs from 'node:fs/promises';
import type { Command } from 'commander';
import type { RelayStatus } from '../api/contract.js';
import { parseDuration } from '../config/duration.js';
import { defaultDataDir } from '../config/store.js';
import { evaluateCheck, unknownCheck, type CheckOptions, type CheckResult } from '../monitor/check.js';

/** How the command learns the relay's status: the same way `smtp-relay status` does. */
export type ReadStatus = (dataDir: string) => Promise<RelayStatus>;

interface RawOptions {
  warnAge?: string | true;
  critAge?: string | true;
  warnQueue?: string | true;
  critQueue?: string | true;
  dataDir?: string | true;
  timeout?: string | true;
}

class PluginUsage extends Error {}

export function addCheckCommand(program: Command, readStatus: ReadStatus): void {
  program.command('check')
    .description('monitoring plugin (Nagios/OP5/Icinga/NSClient++): one line, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN')
    .option('--warn-age [duration]', 'WARNING when the oldest waiting message is older (default 15m)')
    .option('--crit-age [duration]', 'CRITICAL when the oldest waiting message is older (default 1h)')
    .option('--warn-queue [n]', 'WARNING at this many waiting messages (default: no limit)')
    .option('--crit-queue [n]', 'CRITICAL at this many waiting messages (default: no limit)')
    .option('--timeout [seconds]', 'UNKNOWN when the relay does not answer within this time (default 10)')
    .option('--data-dir [dir]', 'data directory; default: SMTP_RELAY_DATA_DIR or the app folder')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (raw: RawOptions, cmd: Command) => {
      const result = await runCheck(raw, cmd.args, readStatus);
      process.stdout.write(result.line + '\n');
      process.exitCode = result.code;
      // A relay that accepted the connection but never answers would keep this process alive, and
      // the monitoring reads the line only at exit. Unref'd: a process with nothing left exits now.
      setTimeout(() => process.exit(result.code), 1000).unref();
    });
}

async function runCheck(raw: RawOptions, extra: string[], readStatus: ReadStatus): Promise<CheckResult> {
  let opts: CheckOptions;
  let timeoutMs: number;
  try {
    if (extra.length) throw new PluginUsage(`unknown argument ${extra.join(' ')}`);
    opts = {
      warnAgeMs: duration(raw.warnAge, '--warn-age', '15m'),
      critAgeMs: duration(raw.critAge, '--crit-age', '1h'),
      warnQueue: count(raw.warnQueue, '--warn-queue'),
      critQueue: count(raw.critQueue, '--crit-queue'),
    };
    timeoutMs = (count(raw.timeout, '--timeout') ?? 10) * 1000;
    if (raw.dataDir === true) throw new PluginUsage('--data-dir needs a folder');
  } catch (e) {
    if (e instanceof PluginUsage) return unknownCheck(`usage: ${e.message}`);
    throw e;
  }
  const dataDir = raw.dataDir ?? defaultDataDir();
  try {
    await fs.access(dataDir);
  } catch (e) {
    return unknownCheck(`cannot read the data directory ${dataDir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the relay within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    const status = await Promise.race([readStatus(dataDir), timeout]);
    return evaluateCheck(status, opts);
  } catch (e) {
    return unknownCheck(`cannot read the relay status in ${dataDir}: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

function duration(value: string | true | undefined, name: string, fallback: string): number {
  if (value === true) throw new PluginUsage(`${name} needs a duration such as 15m`);
  try {
    return parseDuration(value ?? fallback);
  } catch (e) {
    throw new PluginUsage(`${name} ${(e as Error).message}`);
  }
}

function count(value: string | true | undefined, name: string): number | null {
  if (value === undefined) return null;
  if (value === true || !/^\d+$/.test(value)) throw new PluginUsage(`${name} needs a whole number`);
  return Number(value);
}
