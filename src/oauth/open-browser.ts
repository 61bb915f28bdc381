// Opens an address in the system browser, without a shell (an authorization URL is full of "&", which
// cmd.exe would take as command separators).
import { spawn } from 'node:child_process';

export function openSystemBrowser(url: string): Promise<void> {
  const [command, args] = process.platform === 'win32' ? ['rundll32', ['url.dll,FileProtocolHandler', url]]
    : process.platform === 'darwin' ? ['open', [url]]
    : ['xdg-open', [url]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore', detached: true, windowsHide: true });
    child.once('error', (e) => reject(new Error(`cannot open the browser (${command}: ${e.message}); open the address yourself`)));
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
