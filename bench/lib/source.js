// smtp-source, Postfix's load generator: the client of the throughput, backlog and one-connection-
// per-message scenarios, the same program against both relays.
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { Child } from './proc.js';

/**
 * Sends `messages` messages of `size` payload bytes over `sessions` parallel sessions; `reuse` keeps
 * each connection for the next message (-d), otherwise every message has its own connection (how
 * JavaMail's Transport.send works). With `timeLimitMs`, smtp-source is stopped when the time is up and
 * the messages completed so far are counted (its -c counter). Resolves with { sent, ms, timedOut }:
 * `ms` from the start to the last 250 (smtp-source's exit).
 */
export async function smtpSource(bin, { port, messages, sessions, size, reuse = true, timeLimitMs = 0 }) {
  let sent = 0;
  let pending = '';
  const args = ['-c', ...(reuse ? ['-d'] : []), '-s', String(sessions), '-m', String(messages), '-l', String(size),
    '-M', 'bench.test', '-f', 'bench@bench.test', '-t', 'sink@bench.test', `127.0.0.1:${port}`];
  const t0 = performance.now();
  const child = new Child(bin, args, {
    onData: (d) => {
      pending += d;
      const parts = pending.split(/[\r\n]/);
      pending = parts.pop() ?? '';
      for (const p of parts) if (/^\d+$/.test(p)) sent = Number(p);
    },
  });
  let timedOut = false;
  let timer = null;
  if (timeLimitMs > 0) {
    timer = setTimeout(() => { timedOut = true; child.proc.kill('SIGTERM'); }, timeLimitMs);
  }
  const code = await child.exited;
  const ms = performance.now() - t0;
  clearTimeout(timer);
  if (!timedOut && code !== 0) {
    throw new Error(`smtp-source failed (exit ${code}) after ${sent} messages: ${child.tail.replace(/[\r\d]+\r/g, '').trim().slice(-500)}`);
  }
  if (!timedOut) sent = messages;
  return { sent, ms, timedOut };
}
