// Free space on the spool's disk, checked before taking new mail (Postfix's 1.5 × message_size_limit
// rule): a message the client has started must still fit, and delivery needs room for its state files.
// statfs is cheap, but a burst of MAIL commands shares one reading per second.
import fs from 'node:fs/promises';

const FRESH_MS = 1000;

export class FreeSpace {
  private reading: Promise<number | null> | null = null;
  private readAt = 0;

  constructor(private readonly dir: string) {}

  /** Bytes available to this user on the disk holding dir, or null when the system cannot tell. */
  available(): Promise<number | null> {
    const now = Date.now();
    if (!this.reading || now - this.readAt > FRESH_MS) {
      this.readAt = now;
      this.reading = fs.statfs(this.dir).then((s) => s.bavail * s.bsize, () => null);
    }
    return this.reading;
  }
}
