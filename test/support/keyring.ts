// A real Secret Service for the keychain tests: a private D-Bus session bus with gnome-keyring-daemon
// on it, whose "login" keyring is created and unlocked with a throwaway password. HOME and XDG_* point
// into a temporary folder, so the user's own bus and keyrings are never touched. Works headless, as
// root, without an X display.
//
// Needs (Debian): apt-get install -y dbus gnome-keyring libsecret-tools
//   dbus: dbus-daemon and dbus-send; gnome-keyring: the Secret Service itself;
//   libsecret-tools: secret-tool, which checks the keyring independently of the code under test.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const INSTALL_HINT = 'the keychain tests need the Debian packages dbus, gnome-keyring and libsecret-tools (apt-get install -y dbus gnome-keyring libsecret-tools)';
const SECRETS_NAME = 'org.freedesktop.secrets';

export interface TestKeyring {
  /** DBUS_SESSION_BUS_ADDRESS of the private bus. */
  readonly busAddress: string;
  /** Reads a secret with secret-tool, independently of the code under test. */
  lookup(service: string, account: string): Promise<string | null>;
  stop(): Promise<void>;
}

/** Starts the bus and the keyring; throws (never skips) with what to install when that fails. */
export async function startTestKeyring(): Promise<TestKeyring> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'smtp-relay-keyring-'));
  const runtimeDir = path.join(dir, 'run');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: dir,
    XDG_RUNTIME_DIR: runtimeDir,
    XDG_DATA_HOME: path.join(dir, 'data'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
  };
  delete env.DBUS_SESSION_BUS_ADDRESS;
  const daemons: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    // Keyring first: it would otherwise log the bus going away.
    for (const daemon of daemons.reverse()) await terminate(daemon);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await mkdir(runtimeDir, { mode: 0o700 });
    const bus = startDaemon('dbus-daemon', ['--session', '--nofork', `--address=unix:path=${runtimeDir}/bus`, '--print-address=1'], env);
    daemons.push(bus.child);
    const busAddress = await firstLine(bus);
    env.DBUS_SESSION_BUS_ADDRESS = busAddress;

    // --unlock reads the login keyring's password from stdin, creating that keyring (the default
    // collection) if needed, so nothing ever prompts.
    const keyring = startDaemon('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], env);
    daemons.push(keyring.child);
    keyring.child.stdin?.end('test-keyring-password');
    await waitForSecretService(keyring, env);
    await probe(env);

    return {
      busAddress,
      lookup: (service, account) => lookup(env, service, account),
      stop,
    };
  } catch (error) {
    await stop();
    throw new Error(`Could not start a Secret Service (gnome-keyring) on a private D-Bus: ${(error as Error).message}\n${INSTALL_HINT}`, { cause: error });
  }
}

interface Daemon {
  name: string;
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<string>;
}

function startDaemon(command: string, args: string[], env: NodeJS.ProcessEnv): Daemon {
  const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-4000); });
  // Resolves (never rejects) with why the daemon is gone, for racing against readiness checks.
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(`${command} could not be started: ${error.message}`));
    child.once('exit', (code, signal) => resolve(`${command} exited (${signal ?? `code ${code}`}): ${stderr.trim() || 'no output'}`));
  });
  return { name: command, child, stderr: () => stderr, exited };
}

async function firstLine(daemon: Daemon): Promise<string> {
  const stdout = daemon.child.stdout!.setEncoding('utf8');
  const line = new Promise<string>((resolve) => {
    let text = '';
    stdout.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')).trim());
    });
  });
  return race(daemon, line, `${daemon.name} printed no address`);
}

async function waitForSecretService(keyring: Daemon, env: NodeJS.ProcessEnv): Promise<void> {
  // Wait for the name rather than calling the service: a call would make dbus-daemon auto-start a
  // second, locked gnome-keyring through D-Bus activation.
  const owned = (async () => {
    for (;;) {
      const reply = await run('dbus-send', ['--session', '--print-reply=literal', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', `string:${SECRETS_NAME}`], env);
      if (reply.includes('true')) return;
      await sleep(50);
    }
  })();
  await race(keyring, owned, `gnome-keyring-daemon did not claim ${SECRETS_NAME}`);
}

/** Stores, reads and clears one item, so a keyring that would prompt or refuse fails here, clearly. */
async function probe(env: NodeJS.ProcessEnv): Promise<void> {
  const attributes = ['service', 'smtp-relay-keyring-probe', 'account', 'probe'];
  await run('secret-tool', ['store', '--label=probe', ...attributes], env, 'probe-secret');
  const value = await run('secret-tool', ['lookup', ...attributes], env);
  if (value !== 'probe-secret') throw new Error(`secret-tool read back ${JSON.stringify(value)} instead of the probe secret`);
  await run('secret-tool', ['clear', ...attributes], env);
}

async function lookup(env: NodeJS.ProcessEnv, service: string, account: string): Promise<string | null> {
  // Attribute names used by keyring-rs, the library behind @napi-rs/keyring.
  try {
    return await run('secret-tool', ['lookup', 'service', service, 'username', account], env);
  } catch (error) {
    // secret-tool exits 1 without a word when nothing matches.
    if ((error as { stderr?: string }).stderr === '') return null;
    throw error;
  }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { env, timeout: 10_000 }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(new Error(`${command} ${args[0]} failed: ${stderr.trim() || error.message}`), { stderr }));
      else resolve(stdout.trim());
    });
    child.stdin?.end(input);
  });
}

async function race<T>(daemon: Daemon, ready: Promise<T>, timeoutMessage: string, ms = 10_000): Promise<T> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      ready,
      daemon.exited.then((why) => { throw new Error(why); }),
      sleep(ms, undefined, { signal: timer.signal }).then(() => { throw new Error(`${timeoutMessage} within ${ms} ms; stderr: ${daemon.stderr().trim() || 'none'}`); }),
    ]);
  } finally {
    timer.abort();
  }
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/**
 * Runs an ES module body in a fresh Node process and returns its stdout. Needed because the native
 * keychain binding reads DBUS_SESSION_BUS_ADDRESS once per process, at its first call. The body may
 * load the TypeScript sources with a dynamic import(): Node strips the types, and a hook maps their
 * "./x.js" imports to x.ts (a static import would be resolved before the hook is registered). Such
 * sources must use only erasable TypeScript: no enums, no constructor parameter properties.
 */
export async function runInFreshNode(body: string, env: NodeJS.ProcessEnv): Promise<string> {
  const hook = `
    import { registerHooks } from 'node:module';
    registerHooks({
      resolve(specifier, context, nextResolve) {
        try {
          return nextResolve(specifier, context);
        } catch (error) {
          if (!/^\\.\\.?\\//.test(specifier) || !specifier.endsWith('.js')) throw error;
          return nextResolve(specifier.slice(0, -3) + '.ts', context);
        }
      },
    });
  `;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '--eval', `${hook}\n${body}`], { env, timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`child node failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}
