// `smtp-relay`: the relay without the tray (run it as a service, script it, test it).
// Commands that act on the queue go through the running relay's control channel when one runs, and
// open the spool themselves (taking its lock) when none does. Exit codes: 0 ok, 1 failure, 2 usage.
import { Command, CommanderError, Option } from 'commander';
import fs from 'node:fs';
import { connectControl, type RemoteRelay } from '../control/client.js';
import { ControlAccessError } from '../control/key.js';
import { readPublicStatus } from '../control/public-status.js';
import { serveRelay } from '../host/serve.js';
import type { RelayStatus } from '../api/contract.js';
import { ConfigError, type ConfigInput } from '../config/schema.js';
import { defaultDataDir, getConfigValue, loadConfig, saveConfig, withConfigValue } from '../config/store.js';
import { plural, stoppedStatus } from '../health/model.js';
import { RelayService } from '../relay.js';
import { KeychainStore } from '../secrets/keychain.js';
import { addCheckCommand } from './check.js';
import { addConfigTransferCommands } from './config-transfer.js';
import { explainKeychainFailure } from './keychain-hint.js';
import { addOAuthCommands } from './oauth.js';
import { checkQueueId, followTest, printQueue, printStatus } from './print.js';
import { readSecret } from './read-secret.js';
import { addServiceCommands } from './service.js';
import { packageVersion } from './version.js';

type Api = Omit<RemoteRelay, 'close' | 'onStatus' | 'onTestStep' | 'onClose'>;

class UsageError extends Error {}

function relayFor(dataDir: string): RelayService {
  return new RelayService({ dataDir, credentials: new KeychainStore() });
}

/** Runs fn against the running relay, or against the spool opened here when no relay runs. */
async function withRelay<T>(dataDir: string, fn: (api: Api, running: boolean) => Promise<T>): Promise<T> {
  const remote = await connectControl(dataDir);
  if (remote) {
    try {
      return await fn(remote, true);
    } finally {
      remote.close();
    }
  }
  // No relay runs. Opening the spool here writes into the data directory as this user: for a directory
  // that belongs to another account (the service's), files owned by us would lock the service out.
  assertOwnDataDir(dataDir);
  const relay = relayFor(dataDir);
  await relay.open();
  try {
    return await fn(relay, false);
  } finally {
    await relay.stop();
  }
}

function assertOwnDataDir(dataDir: string): void {
  if (process.platform === 'win32' || typeof process.getuid !== 'function') return;
  let owner: number;
  try {
    owner = fs.statSync(dataDir).uid;
  } catch {
    return; // not created yet: it will be ours
  }
  if (owner !== process.getuid()) {
    throw new Error(`the relay for ${dataDir} is not running, and that data directory belongs to another account (uid ${owner}): ` +
      'start the relay (e.g. `systemctl start smtp-relay`) and try again, or run this command as that account');
  }
}

function dataDirOf(opts: { dataDir?: string }): string {
  return opts.dataDir ?? defaultDataDir();
}

async function run(opts: { dataDir?: string }): Promise<void> {
  // Listening for the signals before saying "listening on": a service manager (or a test) may stop us the
  // moment it reads that line, and a signal with no handler kills the process without the graceful stop.
  // A stop asked for while starting is honoured once started. The handlers stay until the stop is over:
  // a second Ctrl+C or SIGTERM while mail is being committed is not a kill.
  const stopAsked = new Promise<void>((resolve) => {
    process.on('SIGINT', resolve);
    process.on('SIGTERM', resolve);
  });
  const hosted = await serveRelay(dataDirOf(opts), { logToConsole: true });
  process.stdout.write(`listening on ${hosted.listening}\n`);
  await stopAsked;
  await hosted.stop();
}

/**
 * The status, for any user: from the relay over the channel when we may use it; from the public status
 * file when we may not (another account's relay, e.g. the service); from the spool when no relay runs.
 */
async function readStatus(dataDir: string): Promise<RelayStatus> {
  let remote: RemoteRelay | null;
  try {
    remote = await connectControl(dataDir);
  } catch (e) {
    if (!(e instanceof ControlAccessError)) throw e;
    return (await readPublicStatus(dataDir)) ?? stoppedStatus();
  }
  if (remote) {
    try { return await remote.getStatus(); } finally { remote.close(); }
  }
  // Our own spool we open (exact counts); another account's we only read about.
  if (isOwnDataDir(dataDir)) return withRelay(dataDir, (api) => api.getStatus());
  return (await readPublicStatus(dataDir).catch(() => null)) ?? withRelay(dataDir, (api) => api.getStatus());
}

function isOwnDataDir(dataDir: string): boolean {
  try {
    assertOwnDataDir(dataDir);
    return true;
  } catch {
    return false;
  }
}

export function buildProgram(): Command {
  const program = new Command('smtp-relay')
    .description('A durable local SMTP relay to a smarthost (SMTP Relay Tray without the tray)')
    .version(packageVersion())
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const dataDir = () => new Option('--data-dir <dir>', 'data directory (config.json, spool/, logs/); default: SMTP_RELAY_DATA_DIR or the app folder');
  const cmd = (name: string, description: string) => program.command(name).description(description).addOption(dataDir());

  cmd('run', 'run the relay in the foreground until Ctrl+C / SIGTERM').action(run);

  cmd('status', 'show the relay state and queue counts').option('--json', 'machine-readable output').action(async (o) => {
    const status = await readStatus(dataDirOf(o));
    if (o.json) process.stdout.write(JSON.stringify(status) + '\n');
    else printStatus(status);
  });

  const queue = program.command('queue').description('list and manage queued messages');
  queue.command('list').description('messages waiting or failed').addOption(dataDir()).option('--json', 'machine-readable output')
    .option('--limit <n>', 'at most this many', '100')
    .action(async (o) => {
      const { items, total } = await withRelay(dataDirOf(o), (api) => api.listQueue({ limit: Number(o.limit) }));
      if (o.json) process.stdout.write(JSON.stringify({ items, total }) + '\n');
      else printQueue(items, total);
    });
  queue.command('show').argument('<id>').description('one message: envelope, recipients, headers').addOption(dataDir()).action(async (id, o) => {
    checkQueueId(id);
    const m = await withRelay(dataDirOf(o), (api) => api.getMessage(id));
    printQueue([m], 1);
    process.stdout.write(`\n${m.headers}\n`);
  });
  queue.command('retry').argument('[id]').description('try a message again now (or --all)').addOption(dataDir())
    .option('--all', 'every waiting message').action(async (id, o) => {
      if (!id && !o.all) throw new UsageError('queue retry needs a message id or --all');
      await withRelay(dataDirOf(o), async (api, running) => {
        if (o.all) process.stdout.write(`${plural(await api.retryAll(), 'message')} will be tried now\n`);
        else { checkQueueId(id); await api.retry(id); process.stdout.write(`${id} will be tried now\n`); }
        if (!running) process.stdout.write('(the relay is not running; delivery happens when it starts)\n');
      });
    });
  queue.command('delete').argument('<id>').description('remove a message from the queue for good').addOption(dataDir()).action(async (id, o) => {
    checkQueueId(id);
    await withRelay(dataDirOf(o), (api) => api.deleteMessage(id));
    process.stdout.write(`${id} deleted\n`);
  });

  cmd('send-test', 'send a test message through the queue and the smarthost').requiredOption('--to <address>', 'recipient')
    .option('--wait <seconds>', 'how long to wait for the outcome', '60').action(async (o) => {
      const ok = await withRelay(dataDirOf(o), async (api, running) => {
        const { id } = await api.sendTest(o.to);
        process.stdout.write(`queued as ${id}\n`);
        if (!running) {
          process.stdout.write('the relay is not running: the message will be delivered when it starts\n');
          return true;
        }
        return followTest(api, id, Number(o.wait) * 1000);
      });
      if (!ok) process.exitCode = 1;
    });

  cmd('test-connection', 'connect to the smarthost, check TLS and authentication; sends no mail').action(async (o) => {
    const r = await withRelay(dataDirOf(o), (api) => api.testConnection());
    process.stdout.write(`${r.target}\n`);
    for (const s of r.steps) {
      process.stdout.write(`  ${s.ok ? 'ok  ' : 'FAIL'}  ${s.step.padEnd(8)} ${String(s.ms).padStart(5)} ms  ${s.detail}\n`);
      if (!s.ok && s.reply) process.stdout.write(`${s.reply.split('\n').map((l) => `                         server: ${l}`).join('\n')}\n`);
    }
    process.stdout.write(`${r.ok ? 'ok' : 'FAILED'}: ${r.message}\n`);
    if (r.advice) process.stdout.write(`cause: ${r.advice.cause}\nfix:   ${r.advice.fix}\n`);
    if (!r.ok) process.exitCode = 1;
  });

  cmd('route', 'how mail to an address would travel (rewriting, destination, TLS, login); sends nothing')
    .argument('<address>').option('--from <sender>', 'also show what happens to this sender').action(async (address, o) => {
      const r = await withRelay(dataDirOf(o), (api) => (o.from === undefined ? api.route(address) : api.route(address, o.from)));
      const lines = [`recipient:   <${r.recipient}>`];
      if (r.sender) lines.push(`sender:      <${r.sender.original}>${r.sender.rewritten !== r.sender.original ? ` -> <${r.sender.rewritten}> (rewritten)` : ' (unchanged)'}`);
      lines.push(`delivery:    ${r.mode === 'smarthost' ? 'through the smarthost' : 'directly to the MX hosts'}`);
      for (const d of r.destinations) lines.push(`             ${d}`);
      lines.push(`tls:         ${r.tls}`, `auth:        ${r.auth}`);
      if (r.problem) lines.push(`problem:     ${r.problem}`);
      process.stdout.write(lines.join('\n') + '\n');
      if (r.problem) process.exitCode = 1;
    });

  const password = program.command('password').description('the smarthost password in the OS keychain');
  password.command('set').description('read the password from stdin and store it').addOption(dataDir()).action(async (o) => {
    const secret = await readSecret('Smarthost password: ');
    if (!secret) throw new UsageError('no password given on stdin');
    await explainKeychainFailure(withRelay(dataDirOf(o), (api) => api.setPassword(secret)));
    process.stdout.write('password stored in the OS keychain\n');
  });
  password.command('delete').description('remove the stored password').addOption(dataDir()).action(async (o) => {
    const deleted = await withRelay(dataDirOf(o), (api) => api.deletePassword());
    process.stdout.write(deleted ? 'password removed\n' : 'no password was stored\n');
  });

  addOAuthCommands(program, { dataDirOption: dataDir, dataDirOf, withRelay });
  addCheckCommand(program, readStatus);
  addServiceCommands(program);

  const config = program.command('config').description('read or change config.json (validated)');
  config.command('get').argument('[key]', 'dotted path such as smarthost.port').addOption(dataDir()).action(async (key, o) => {
    const c = await loadConfig(dataDirOf(o));
    const value = key ? getConfigValue(c, key) : c;
    if (value === undefined) throw new UsageError(`unknown setting "${key}"`);
    process.stdout.write((typeof value === 'string' ? value : JSON.stringify(value, null, 2)) + '\n');
  });
  config.command('set').argument('<key>').argument('<value>').addOption(dataDir()).action(async (key, value, o) => {
    // Through the running relay when there is one: it validates, saves as its own account and applies at once.
    const dir = dataDirOf(o);
    const remote = await connectControl(dir);
    let saved;
    if (remote) {
      try {
        const { configRevision } = await remote.getStatus();
        saved = await remote.setConfig(withConfigValue(await remote.getConfig(), key, value) as ConfigInput, configRevision);
      } finally {
        remote.close();
      }
    } else {
      assertOwnDataDir(dir);
      saved = await saveConfig(dir, withConfigValue(await loadConfig(dir), key, value));
    }
    process.stdout.write(`${key} = ${JSON.stringify(getConfigValue(saved, key))}\n`);
  });
  addConfigTransferCommands(config, { dataDirOption: dataDir, dataDirOf });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError) {
      process.stderr.write(`smtp-relay: ${e.message}\n`);
      return 2;
    }
    const prefix = e instanceof ConfigError ? '' : 'smtp-relay: ';
    process.stderr.write(`${prefix}${(e as Error).message}\n`);
    return 1;
  }
}
