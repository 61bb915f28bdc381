// The outside programs the bench needs. It installs nothing: it says what is missing and how to get it.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** Debian's postfix package has them all; smtp-source / smtp-sink are its load generator and fake upstream. */
export const NEEDED = ['smtp-source', 'smtp-sink', 'postfix', 'postconf', 'postqueue'];

export const INSTALL_HINT = [
  'Install Debian\'s postfix package (it brings smtp-source and smtp-sink) without letting it configure',
  'a system mail server:',
  '',
  '  echo "postfix postfix/main_mailer_type select No configuration" | sudo debconf-set-selections',
  '  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y postfix',
  '',
  'The bench starts its own private Postfix instance (its own config and queue under a temp folder,',
  'loopback only) and stops it afterwards; the system\'s Postfix service is never used or started.',
].join('\n');

/** Full path of a program, looked up in PATH and in the sbin folders Debian puts Postfix in. */
export function findTool(name) {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/bin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

/** { found: {name: path}, missing: [names] } */
export function checkTools(names = NEEDED) {
  const found = {};
  const missing = [];
  for (const n of names) {
    const p = findTool(n);
    if (p) found[n] = p; else missing.push(n);
  }
  return { found, missing };
}

export function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}
