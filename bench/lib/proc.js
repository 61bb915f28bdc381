// Processes: spawning with output captured, waiting for a line, and memory read from /proc.
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';

/** Runs a command to completion; resolves with its exit code and output (never rejects on a non-zero exit). */
export function run(cmd, args, { env, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: env ?? process.env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr, error: err });
    });
  });
}

/**
 * A long-running child with its stdout+stderr kept (the last 64 KB only: a relay logs two lines per
 * message) and a way to wait for a line matching a pattern. Output is read as it comes, so a child
 * that writes to a pipe synchronously is never held up by us.
 */
export class Child {
  /** `outputFd`: an open file to send the child's stdout and stderr to instead (nothing is captured then). */
  constructor(cmd, args, { env, onData, outputFd } = {}) {
    this.cmd = cmd;
    this.startedAt = performance.now();
    const out = outputFd ?? 'pipe';
    this.proc = spawn(cmd, args, { env: env ?? process.env, stdio: ['ignore', out, out] });
    this.tail = '';
    this.waiters = new Set();
    const take = (d) => {
      const now = performance.now();
      this.tail = (this.tail + d).slice(-65_536);
      onData?.(d, now);
      for (const w of this.waiters) w(now);
    };
    this.proc.stdout?.setEncoding('latin1').on('data', take);
    this.proc.stderr?.setEncoding('latin1').on('data', take);
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve(code ?? signal)));
    this.proc.once('error', (e) => { this.tail += `\n${e.message}`; });
  }

  get pid() {
    return this.proc.pid;
  }

  get running() {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Resolves with the time (performance.now()) the output first matched `re`; rejects on exit or timeout. */
  waitFor(re, timeoutMs = 30_000) {
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (fn, v) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.waiters.delete(check);
        fn(v);
      };
      const check = (now) => { if (re.test(this.tail)) finish(resolve, now); };
      const timer = setTimeout(() => finish(reject, new Error(`${this.cmd}: no ${re} within ${timeoutMs} ms; output:\n${this.tail.slice(-2000)}`)), timeoutMs);
      this.waiters.add(check);
      check(performance.now());
      void this.exited.then((code) => finish(reject, new Error(`${this.cmd} exited (${code}) before ${re}; output:\n${this.tail.slice(-2000)}`)));
    });
  }

  /** Sends a signal and waits (up to timeoutMs) for the exit; SIGKILL if it does not come. */
  async stop(signal = 'SIGTERM', timeoutMs = 30_000) {
    if (!this.running) return this.exited;
    this.proc.kill(signal);
    const code = await Promise.race([this.exited, sleep(timeoutMs).then(() => 'timeout')]);
    if (code !== 'timeout') return code;
    this.proc.kill('SIGKILL');
    return this.exited;
  }
}

/** pid and every descendant of it (read from /proc), for programs made of several processes (Postfix). */
export async function processTree(rootPid) {
  const parentOf = new Map();
  for (const name of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await fs.readFile(`/proc/${name}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may contain spaces and parentheses, so parse after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(name), ppid);
    } catch {
      // gone while we looked
    }
  }
  const tree = [rootPid];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parentOf) if (ppid === tree[i]) tree.push(pid);
  }
  return tree.filter((pid) => parentOf.has(pid));
}

/**
 * Memory of a set of processes, in bytes: rss summed (shared library pages counted once per process),
 * pss summed (each shared page split between the processes that map it: what they use together),
 * hwm summed (each process's own peak RSS, VmHWM). Processes that vanish meanwhile are skipped.
 */
export async function memoryOf(pids) {
  const total = { rss: 0, pss: 0, hwm: 0, processes: 0, names: {} };
  for (const pid of pids) {
    try {
      const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
      const rollup = await fs.readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
      const kb = (text, key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
      total.rss += kb(status, 'VmRSS');
      total.hwm += kb(status, 'VmHWM');
      total.pss += kb(rollup, 'Pss');
      total.processes++;
      const name = /^Name:\s+(\S+)/m.exec(status)?.[1] ?? '?';
      total.names[name] = (total.names[name] ?? 0) + 1;
    } catch {
      // exited between the listing and the read
    }
  }
  return total;
}

/**
 * CPU time (user + system, ms) used by a set of processes: their own, plus what the children that the
 * first one (the root: our relay, or Postfix's master) has reaped had used. Take it before and after.
 */
export async function cpuOf(pids) {
  const tick = 1000 / 100; // USER_HZ: 100 on Linux
  let ms = 0;
  for (const [i, pid] of pids.entries()) {
    try {
      const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields after the state: utime, stime, cutime, cstime are the 12th-15th (1-based) of this remainder.
      ms += (Number(f[11]) + Number(f[12]) + (i === 0 ? Number(f[13]) + Number(f[14]) : 0)) * tick;
    } catch {
      // exited meanwhile (its time moves to its parent's cutime)
    }
  }
  return ms;
}

/** Samples memory every intervalMs while running; stop() returns the peaks seen. */
export function sampleMemory(pidsFn, intervalMs = 100) {
  const peak = { rss: 0, pss: 0, processes: 0, samples: 0 };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const m = await memoryOf(await pidsFn());
      if (m.processes > 0) {
        peak.rss = Math.max(peak.rss, m.rss);
        peak.pss = Math.max(peak.pss, m.pss);
        peak.processes = Math.max(peak.processes, m.processes);
        peak.samples++;
      }
      await sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return peak;
    },
  };
}

/** Waits until fn() is truthy, polling; rejects with `what` after timeoutMs. */
export async function until(fn, { timeoutMs = 60_000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Resolves once something accepts connections on the port; rejects if `child` exits first or on timeout. */
export async function waitForPort(port, { child = null, timeoutMs = 10_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && !child.running) throw new Error(`${child.cmd} exited: ${child.tail}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** A free TCP port on loopback. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}
