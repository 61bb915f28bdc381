// A throwaway private CA and a server certificate for "localhost" (SAN DNS:localhost, IP:127.0.0.1),
// made with the openssl CLI so tests can run TLS with real verification instead of turning it off.
// Generated once per test worker and removed when the process exits.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificates {
  dir: string;
  /** The private CA: give its path to smarthost.caFile, or its PEM to a client's `ca`. */
  caCertPath: string;
  caCert: string;
  /** The server's key and certificate (signed by the CA), for an smtp-server's `key`/`cert`. */
  keyPath: string;
  key: string;
  certPath: string;
  cert: string;
}

let pending: Promise<TestCertificates> | undefined;

/** The certificates of this test run; the first call creates them, later calls share them. */
export function testCertificates(): Promise<TestCertificates> {
  pending ??= generate();
  return pending;
}

async function generate(): Promise<TestCertificates> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'smtp-relay-test-tls-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string) => path.join(dir, name);
  // P-256 keys: generated in milliseconds, accepted by every TLS stack we talk to.
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  await run('openssl', ['req', '-x509', ...newKey, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '2',
    '-subj', '/CN=SMTP Relay Tray Test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await run('openssl', ['req', ...newKey, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=localhost']);
  writeFileSync(file('server.ext'), [
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
  ].join('\n'));
  await run('openssl', ['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'),
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '2', '-extfile', file('server.ext'), '-out', file('server.crt')]);

  return {
    dir,
    caCertPath: file('ca.crt'),
    caCert: readFileSync(file('ca.crt'), 'utf8'),
    keyPath: file('server.key'),
    key: readFileSync(file('server.key'), 'utf8'),
    certPath: file('server.crt'),
    cert: readFileSync(file('server.crt'), 'utf8'),
  };
}
