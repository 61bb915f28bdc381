// The spool's disk seam (Spool.open's openFile and rename) with faults a test can switch on and off
// while the relay runs: an EIO from write once some bytes of message content are written, from fsync
// of the message content, of its state file, of a directory or of the state under its final name,
// or from the rename that commits it; or a slow open. Everything else goes to the real file. Each
// operation can be recorded, so a test can check the order of a commit.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { SpoolDisk, SpoolFile } from '../../src/spool/fsync.js';

export interface Faults {
  /** Fail content writes once this many content bytes are written (null: never). */
  writeAfterBytes: number | null;
  syncContent: boolean;
  /** fsync of the state file in tmp/. */
  syncState: boolean;
  /** fsync of a directory (POSIX only: Windows has none). */
  syncDir: boolean;
  /** fsync of a state under its final name, after the rename (Windows only). */
  syncCommitted: boolean;
  /** The rename of a state from tmp/ into place. */
  rename: boolean;
  /** Opening a file takes this long (a slow disk, antivirus). */
  openDelayMs: number;
  /** Each write of message content takes this long (a slow disk). */
  writeDelayMs: number;
}

export function noFaults(): Faults {
  return { writeAfterBytes: null, syncContent: false, syncState: false, syncDir: false, syncCommitted: false, rename: false, openDelayMs: 0, writeDelayMs: 0 };
}

/** What a file is to the spool: message content, a state being written, a directory, or a state in place. */
export type FileKind = 'content' | 'state' | 'dir' | 'committed';

export interface Operation {
  op: 'open' | 'write' | 'sync' | 'close' | 'rename';
  kind: FileKind;
  /** The file (for a rename, its new name). */
  file: string;
}

function eio(syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`EIO: i/o error, ${syscall} (injected by the test)`), { code: 'EIO', errno: -5, syscall });
}

function kindOf(file: string, flags: string): FileKind {
  if (file.endsWith('.eml')) return 'content';
  if (path.basename(path.dirname(file)) === 'tmp') return 'state';
  return flags === 'r' ? 'dir' : 'committed';
}

/** openFile and rename for Spool.open; `trace` (if given) receives every operation in order. */
export function faultyDisk(faults: Faults, trace?: Operation[]): Pick<SpoolDisk, 'openFile' | 'rename'> {
  const record = (op: Operation['op'], kind: FileKind, file: string) => trace?.push({ op, kind, file });
  return {
    openFile: async (file, flags, mode) => {
      if (faults.openDelayMs) await new Promise((r) => setTimeout(r, faults.openDelayMs));
      const kind = kindOf(file, flags);
      record('open', kind, file);
      const fh = await fs.open(file, flags, mode);
      let written = 0;
      const write = async (buffer: Uint8Array, offset?: number) => {
        record('write', kind, file);
        if (kind === 'content' && faults.writeAfterBytes !== null && written >= faults.writeAfterBytes) throw eio('write');
        if (kind === 'content' && faults.writeDelayMs) await new Promise((r) => setTimeout(r, faults.writeDelayMs));
        const result = await fh.write(buffer, offset);
        written += result.bytesWritten;
        return result;
      };
      return {
        write: write as SpoolFile['write'],
        writeFile: (data) => {
          record('write', kind, file);
          return fh.writeFile(data);
        },
        async sync() {
          record('sync', kind, file);
          const fail = { content: faults.syncContent, state: faults.syncState, dir: faults.syncDir, committed: faults.syncCommitted };
          if (fail[kind]) throw eio('fsync');
          return fh.sync();
        },
        close: () => {
          record('close', kind, file);
          return fh.close();
        },
      };
    },
    rename: async (from, to) => {
      record('rename', 'committed', to);
      if (faults.rename) throw eio('rename');
      return fs.rename(from, to);
    },
  };
}
