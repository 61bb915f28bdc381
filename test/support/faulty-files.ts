// The spool's file seam (Spool.open's openFile) with faults a test can switch on and off while the
// relay runs: an EIO from write once some bytes of message content are written, or from fsync of
// the message content or of its state file, or a slow open. Everything else goes to the real file.
import fs from 'node:fs/promises';
import type { OpenFile, SpoolFile } from '../../src/spool/fsync.js';

export interface Faults {
  /** Fail content writes once this many content bytes are written (null: never). */
  writeAfterBytes: number | null;
  syncContent: boolean;
  syncState: boolean;
  /** Opening a file takes this long (a slow disk, antivirus). */
  openDelayMs: number;
}

export function noFaults(): Faults {
  return { writeAfterBytes: null, syncContent: false, syncState: false, openDelayMs: 0 };
}

function eio(syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`EIO: i/o error, ${syscall} (injected by the test)`), { code: 'EIO', errno: -5, syscall });
}

export function faultyOpen(faults: Faults): OpenFile {
  return async (file, flags, mode) => {
    if (faults.openDelayMs) await new Promise((r) => setTimeout(r, faults.openDelayMs));
    const fh = await fs.open(file, flags, mode);
    const content = file.endsWith('.eml');
    let written = 0;
    const write = async (buffer: Uint8Array, offset?: number) => {
      if (content && faults.writeAfterBytes !== null && written >= faults.writeAfterBytes) throw eio('write');
      const result = await fh.write(buffer, offset);
      written += result.bytesWritten;
      return result;
    };
    return {
      write: write as SpoolFile['write'],
      writeFile: (data) => fh.writeFile(data),
      async sync() {
        if (content ? faults.syncContent : faults.syncState) throw eio('fsync');
        return fh.sync();
      },
      close: () => fh.close(),
    };
  };
}
