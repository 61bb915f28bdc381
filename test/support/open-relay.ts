// A RelayService opened on a fresh data directory without the network (no listener, no delivery):
// config, schema and queue as the settings window sees them, for component tests.
import fs from 'node:fs/promises';
import { RelayService } from '../../src/relay.js';
import { MemoryCredentialStore } from '../../src/secrets/credential-store.js';
import { tempDataDir } from './relay.js';

export interface OpenRelay {
  relay: RelayService;
  dataDir: string;
  credentials: MemoryCredentialStore;
  close(): Promise<void>;
}

export async function openRelay(): Promise<OpenRelay> {
  const dataDir = await tempDataDir();
  const credentials = new MemoryCredentialStore();
  const relay = new RelayService({ dataDir, credentials, env: {}, hostname: 'relay.test' });
  await relay.open();
  return {
    relay, dataDir, credentials,
    async close() {
      await relay.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Whether config.json exists: a refused save must not have written it. */
export async function configWritten(dataDir: string): Promise<boolean> {
  return fs.access(`${dataDir}/config.json`).then(() => true, () => false);
}
