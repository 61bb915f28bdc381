// The tray icon as a file: on Windows Electron builds the tray's icon with LoadImage at the display's
// small-icon size, which picks the matching image of a multi-size icon only when it comes from an
// .ico file path; a NativeImage made from a buffer gives it the 1x image, stretched.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export class TrayIcoFile {
  private dir: string | null = null;

  constructor(private readonly parent: string = os.tmpdir()) {}

  /** Writes the icon over the previous one and returns its path (the same every time). */
  write(ico: Buffer): string {
    if (!this.dir) {
      // A private directory of this process: a shared temp folder must not let another user swap the file.
      this.dir = fs.mkdtempSync(path.join(this.parent, 'smtp-relay-tray-'));
      process.once('exit', () => this.remove());
    }
    const file = path.join(this.dir, 'tray.ico');
    fs.writeFileSync(file, ico);
    return file;
  }

  /** Removes the file and its directory (done at exit). */
  remove(): void {
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}
