// An oversized message is drained, not stored and not buffered: the relay's memory must not follow
// what a client sends. Measured on a real `smtp-relay run` process so nothing else shares its heap.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { saveConfig } from '../src/config/store.js';
import { runRelay, type RunningRelay } from './support/cli.js';
import { RawSmtp } from './support/raw-smtp.js';
import { freePort, tempDataDir } from './support/relay.js';

let relay: RunningRelay | null = null;
let dataDir = '';

afterAll(async () => {
  relay?.child.kill('SIGTERM');
  await relay?.exited;
  await fs.rm(dataDir, { recursive: true, force: true });
});

/** Resident set size of a process, from /proc (Linux, where CI runs). */
async function rss(pid: number): Promise<number> {
  const statm = await fs.readFile(`/proc/${pid}/statm`, 'utf8');
  return Number(statm.split(' ')[1]) * 4096;
}

it('drains an oversized body without SIZE, answers 552 5.3.4, stores nothing, and memory stays flat', async () => {
  dataDir = await tempDataDir();
  const port = await freePort();
  await saveConfig(dataDir, { listen: { port, maxMessageBytes: 1_000_000 } });
  relay = await runRelay(dataDir);
  const pid = relay.child.pid as number;
  const c = await RawSmtp.connect(port);
  await c.reply();
  await c.command('EHLO client.test');
  const line = Buffer.from('x'.repeat(998) + '\r\n');
  const chunk = Buffer.concat(Array.from({ length: 64 }, () => line)); // 64 KB, reused
  let peak = await rss(pid);
  const sampler = setInterval(() => { void rss(pid).then((r) => { peak = Math.max(peak, r); }, () => {}); }, 10);
  const oversized = async (bytes: number) => {
    await c.command('MAIL FROM:<a@b.test>');
    await c.command('RCPT TO:<c@d.test>');
    expect(await c.command('DATA')).toMatch(/^354/);
    for (let sent = 0; sent < bytes; sent += chunk.length) await c.write(chunk);
    expect(await c.command('.')).toMatch(/^552 5\.3\.4 /);
  };
  // The first round lets the heap settle at its working size; if anything kept the drained bytes, the
  // second, four times larger, round would add hundreds of MB on top of that.
  await oversized(50_000_000);
  const settled = peak;
  await oversized(200_000_000);
  clearInterval(sampler);
  console.log(`relay RSS: settled ${(settled / 1e6).toFixed(1)} MB, peak after 200 MB more ${(peak / 1e6).toFixed(1)} MB`);
  // Garbage collection lags by some tens of MB; keeping what was drained would add the whole 200 MB.
  expect(peak - settled).toBeLessThan(100_000_000);
  expect(await fs.readdir(path.join(dataDir, 'spool', 'msg'))).toEqual([]);
  expect(await c.command('RSET')).toMatch(/^250/); // the session goes on
  c.close();
});
