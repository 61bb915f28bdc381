// A private Postfix instance configured as the same relay as ours: loopback only, everything relayed
// to the sink (relayhost), its own config_directory and queue_directory under a temp folder, started
// with `postfix -c DIR start` and stopped and removed afterwards. The system's Postfix (if any) is
// never touched. Needs root: Postfix's master starts as root and its daemons switch to `postfix`.
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitForGreeting } from './client.js';
import { processTree, run } from './proc.js';

/** The daemons a relay-only Postfix needs (Debian's master.cf without the local/virtual/pipe ones), none chrooted. */
const SERVICES = `
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;

export class PrivatePostfix {
  /** tools: paths of postfix, postconf, postqueue; connections: outbound concurrency to the sink. */
  constructor({ tools, port, sinkPort, connections }) {
    this.key = 'postfix';
    this.name = 'Postfix';
    this.tools = tools;
    this.port = port;
    this.sinkPort = sinkPort;
    this.connections = connections;
    this.dir = null;
    this.memoryNote = 'master and every process under it (smtpd, cleanup, qmgr, smtp, trivial-rewrite, ... as running at the time)';
  }

  get etc() {
    return path.join(this.dir, 'etc');
  }

  get queue() {
    return path.join(this.dir, 'queue');
  }

  async version() {
    const r = await run(this.tools.postconf, ['-d', '-h', 'mail_version']);
    return r.stdout.trim();
  }

  async setup() {
    await this.cleanup();
    this.dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-postfix-'));
    await fs.chmod(this.dir, 0o755); // the postfix user must reach its queue under it
    for (const d of ['etc', 'queue', 'data']) await fs.mkdir(path.join(this.dir, d));
    const uid = await postfixUid();
    await fs.chown(path.join(this.dir, 'data'), uid, -1);
    // Its log file, writable by the postfix user too: after a crash (no postlogd running yet) `postfix start`
    // runs postsuper, which then writes to the file itself, as postfix.
    await fs.writeFile(path.join(this.dir, 'maillog'), '', { mode: 0o644 });
    await fs.chown(path.join(this.dir, 'maillog'), uid, -1);
    const n = this.connections;
    const main = {
      compatibility_level: '3.6',
      queue_directory: this.queue,
      data_directory: path.join(this.dir, 'data'),
      command_directory: '/usr/sbin',
      daemon_directory: '/usr/lib/postfix/sbin',
      meta_directory: '/etc/postfix',
      shlib_directory: '/usr/lib/postfix',
      mail_owner: 'postfix',
      setgid_group: 'postdrop',
      myhostname: 'bench.localdomain',
      // Relay only, like ours: nothing is delivered locally, everything goes to the smarthost (the sink).
      mydestination: '',
      alias_maps: '',
      alias_database: '',
      local_recipient_maps: '',
      inet_interfaces: '127.0.0.1',
      inet_protocols: 'ipv4',
      mynetworks: '127.0.0.0/8',
      relayhost: `[127.0.0.1]:${this.sinkPort}`,
      // The same number of connections to the smarthost as our relay (smarthost.maxConnections), from the start.
      default_destination_concurrency_limit: String(n),
      smtp_destination_concurrency_limit: String(n),
      initial_destination_concurrency: String(n),
      // Its log in a file (no syslog here), through postlogd.
      maillog_file: path.join(this.dir, 'maillog'),
      maillog_file_prefixes: this.dir,
      smtputf8_enable: 'no',
      biff: 'no',
    };
    await fs.writeFile(path.join(this.etc, 'main.cf'), Object.entries(main).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n');
    await fs.writeFile(path.join(this.etc, 'master.cf'), `127.0.0.1:${this.port} inet n - n - - smtpd\n${SERVICES}`);
  }

  /** `postfix start`; resolves with the ms from the command to the first 220 greeting a client gets. */
  async start() {
    const t0 = performance.now();
    const r = await run(this.tools.postfix, ['-c', this.etc, 'start']);
    if (r.code !== 0) throw new Error(`postfix -c ${this.etc} start failed (exit ${r.code}): ${r.stderr}${await this.logTail()}`);
    return (await waitForGreeting(this.port, { timeoutMs: 60_000 })) - t0;
  }

  /** `postfix stop`, then waits for the master to be gone; resolves with the ms it took. */
  async stop() {
    const master = await this.masterPid();
    if (!master) return 0;
    const t0 = performance.now();
    await run(this.tools.postfix, ['-c', this.etc, 'stop']);
    while (isAlive(master)) await sleep(20);
    return performance.now() - t0;
  }

  /** SIGKILL to the master and every process under it at once. */
  async crash() {
    const master = await this.masterPid();
    if (!master) return;
    const pids = await processTree(master);
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    while (pids.some(isAlive)) await sleep(10);
  }

  /** `postqueue -f`: every deferred message now. */
  async flush() {
    const r = await run(this.tools.postqueue, ['-c', this.etc, '-f']);
    if (r.code !== 0) throw new Error(`postqueue -f failed: ${r.stderr}`);
  }

  async pids() {
    const master = await this.masterPid();
    return master ? processTree(master) : [];
  }

  /** Queue files not yet delivered (maildrop, incoming, active, deferred, hold). */
  async queueSize() {
    let n = 0;
    const count = async (dir) => {
      for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
        if (e.isDirectory()) await count(path.join(dir, e.name)); else n++;
      }
    };
    for (const q of ['maildrop', 'incoming', 'active', 'deferred', 'hold']) await count(path.join(this.queue, q));
    return n;
  }

  /** Settled after an injection with the sink down: nothing left in maildrop, incoming or active (all deferred). */
  async atRest() {
    for (const q of ['maildrop', 'incoming', 'active']) {
      if ((await fs.readdir(path.join(this.queue, q)).catch(() => [])).length > 0) return false;
    }
    return true;
  }

  output() {
    return '';
  }

  async logTail() {
    const log = await fs.readFile(path.join(this.dir ?? '', 'maillog'), 'utf8').catch(() => '');
    return log ? `\nlast lines of its maillog:\n${log.trim().split('\n').slice(-10).join('\n')}` : `\n(run "postfix -c ${this.etc} check" in a terminal for the reason)`;
  }

  async masterPid() {
    if (!this.dir) return null;
    const text = await fs.readFile(path.join(this.queue, 'pid', 'master.pid'), 'utf8').catch(() => '');
    const pid = Number(text.trim());
    return pid > 0 && isAlive(pid) ? pid : null;
  }

  async cleanup() {
    if (!this.dir) return;
    if (await this.masterPid()) {
      await this.stop().catch(() => {});
      await this.crash().catch(() => {});
    }
    await fs.rm(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}

/** Running (a zombie counts as gone: where PID 1 does not reap, as in some containers, the master stays one). */
function isAlive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function postfixUid() {
  const passwd = await fs.readFile('/etc/passwd', 'utf8');
  const line = passwd.split('\n').find((l) => l.startsWith('postfix:'));
  if (!line) throw new Error('there is no "postfix" user: is the postfix package installed?');
  return Number(line.split(':')[2]);
}
