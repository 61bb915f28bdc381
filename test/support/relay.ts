// A RelayService on a fresh data directory and a free loopback port, for integration tests.
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ConfigInput } from '../../src/config/schema.js';
import { saveConfig } from '../../src/config/store.js';
import { RelayService, type RelayServiceOptions } from '../../src/relay.js';
import { MemoryCredentialStore, type CredentialStore } from '../../src/secrets/credential-store.js';

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export async function tempDataDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'relay-data-'));
}

export interface TestRelay {
  relay: RelayService;
  dataDir: string;
  port: number;
  credentials: CredentialStore;
  stop(graceMs?: number): Promise<void>;
}

/** Writes config.json (listen port chosen here) and starts a relay on it. */
export async function startRelay(config: ConfigInput, extra: Partial<RelayServiceOptions> = {}): Promise<TestRelay> {
  const dataDir = extra.dataDir ?? (await tempDataDir());
  const port = await freePort();
  await saveConfig(dataDir, { ...config, listen: { ...config.listen, port } });
  const credentials = extra.credentials ?? new MemoryCredentialStore();
  const relay = new RelayService({ hostname: 'relay.test', ...extra, dataDir, credentials });
  await relay.start();
  return {
    relay, dataDir, port, credentials,
    async stop(graceMs?: number) {
      await relay.stop(graceMs);
      if (!extra.dataDir) await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until check() returns a truthy value, or fails after timeoutMs with the last value seen. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: T;
  do {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 25));
  } while (Date.now() < until);
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/**
 * Files under `dir` (relative paths) whose bytes contain any of `needles`. A file removed while this
 * looks (the relay removes delivered content in the background) held nothing that is still on disk.
 */
export async function filesContaining(dir: string, needles: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const f of await fs.readdir(dir, { recursive: true })) {
    const text = await fs.readFile(path.join(dir, f), 'latin1').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'EISDIR') return '';
      throw e;
    });
    if (needles.some((n) => text.includes(n))) found.push(f);
  }
  return found;
}
