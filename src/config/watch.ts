// Notices changes to config.json made outside the running relay (a hand edit in Notepad, `config set` while
// no channel was used, a configuration management tool), so they take effect without a restart. Polling
// the file's size and mtime twice a second works the same on NTFS, ext4 and network shares, where
// fs.watch misses renames and editors' save-by-replace; it costs one stat per interval.
import fs from 'node:fs';
import { configPath } from './store.js';

export const CONFIG_POLL_MS = 500;

export function watchConfigFile(dataDir: string, onChange: () => void, intervalMs = CONFIG_POLL_MS): () => void {
  const file = configPath(dataDir);
  const listener = (now: fs.Stats, before: fs.Stats) => {
    if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino) onChange();
  };
  fs.watchFile(file, { interval: intervalMs, persistent: false }, listener);
  return () => fs.unwatchFile(file, listener);
}
