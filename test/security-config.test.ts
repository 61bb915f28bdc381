// Issue 12, finding 4: header and command injection through settings. Every config string refuses
// control characters, naming the field; the headers the relay writes go through the header encoder.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RelayError } from '../src/api/contract.js';
import { parseConfig, type ConfigInput } from '../src/config/schema.js';
import { buildDsn } from '../src/deliver/dsn.js';
import { headerField, mailbox } from '../src/mail/header-field.js';
import { receivedHeader } from '../src/receive/headers.js';
import type { MessageState } from '../src/spool/state.js';
import { cli } from './support/cli.js';
import { openRelay, type OpenRelay } from './support/open-relay.js';
import { tempDataDir } from './support/relay.js';

const INJECTION = 'jts@contoso.com\r\nBcc: victim@example.net';

/** Every string setting that reaches a header, an SMTP command or a log line, set to `value`. */
const STRING_FIELDS: [string, (value: string) => ConfigInput][] = [
  ['smarthost.auth.username', (v) => ({ smarthost: { auth: { username: v } } })],
  ['smarthost.host', (v) => ({ smarthost: { host: v } })],
  ['smarthost.caFile', (v) => ({ smarthost: { caFile: v } })],
  ['smarthost.auth.scope', (v) => ({ smarthost: { auth: { scope: v } } })],
  ['smarthost.auth.tokenEndpoint', (v) => ({ smarthost: { auth: { tokenEndpoint: `https://login.example/${v}` } } })],
  ['smarthost.auth.clientId', (v) => ({ smarthost: { auth: { clientId: v } } })],
  ['delivery.heloName', (v) => ({ delivery: { heloName: v } })],
  ['rewrite.forceSender', (v) => ({ rewrite: { forceSender: v } })],
  ['rewrite.senders[0].replace', (v) => ({ rewrite: { senders: [{ match: '@jts.local', replace: v }] } })],
  ['rewrite.senders[0].match', (v) => ({ rewrite: { senders: [{ match: v, replace: 'a@b.example' }] } })],
  ['listen.allowedClients[0]', (v) => ({ listen: { allowedClients: [`127.0.0.0/8${v}`] } })],
];

describe('control characters in settings', () => {
  let open: OpenRelay | null = null;
  afterEach(async () => { await open?.close(); open = null; });

  it('every string setting refuses CR, LF, NUL, TAB and other control characters, naming the field', () => {
    for (const [field, make] of STRING_FIELDS) {
      for (const bad of [INJECTION, 'a\nb@c.example', 'a\0b@c.example', 'a\u0085b@c.example', 'a\tb@c.example']) {
        const escaped = field.replace(/[.[\]]/g, '\\$&');
        expect(() => parseConfig(make(bad)), `${field} ${JSON.stringify(bad)}`).toThrow(new RegExp(`${escaped}: must not contain control characters \\(found U\\+00`));
      }
    }
    expect(() => parseConfig({ smarthost: { auth: { username: INJECTION } } })).toThrow(/smarthost\.auth\.username: must not contain control characters \(found U\+000D, a carriage return\)/);
  });

  it('setConfig refuses the injected username, config.json stays as it was, and send-test writes no Bcc into the spool', async () => {
    open = await openRelay();
    await open.relay.setConfig({ smarthost: { host: 'smtp.example', auth: { method: 'password', username: 'jts@contoso.com' } } });
    const before = await fs.readFile(path.join(open.dataDir, 'config.json'), 'utf8');
    const refused = await open.relay.setConfig({ smarthost: { host: 'smtp.example', auth: { method: 'password', username: INJECTION } } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RelayError);
    expect((refused as RelayError).message).toMatch(/smarthost\.auth\.username: must not contain control characters/);
    expect(await fs.readFile(path.join(open.dataDir, 'config.json'), 'utf8')).toBe(before);
    // send-test's own address argument goes through the encoder too.
    await expect(open.relay.sendTest('x@example.net>\r\nBcc: victim@example.net')).rejects.toThrow(/not a single e-mail address/);
    const { id } = await open.relay.sendTest('ops@example.net');
    const { headers } = await open.relay.getMessage(id);
    expect(headers).toMatch(/^From: SMTP Relay Tray <jts@contoso\.com>\r?$/m);
    expect(headers).not.toMatch(/^Bcc:/im);
    const queued = await open.relay.listQueue();
    expect(queued.items.map((i) => i.id)).toEqual([id]);
  });

  it('config set refuses it too, with the field, and writes nothing', async () => {
    const dataDir = await tempDataDir();
    try {
      const r = await cli(['config', 'set', 'smarthost.auth.username', INJECTION, '--data-dir', dataDir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/smarthost\.auth\.username: must not contain control characters/);
      await expect(fs.access(path.join(dataDir, 'config.json'))).rejects.toThrow();
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });

  it('the header encoder refuses what would end a header line; the DSN and Received: use it', () => {
    expect(() => headerField('To', INJECTION)).toThrow(/control characters/);
    expect(() => mailbox(INJECTION)).toThrow(/not a single e-mail address/);
    expect(mailbox('jts@contoso.com', 'Relay "Tray"')).toBe('"Relay \\"Tray\\"" <jts@contoso.com>');
    expect(mailbox('jts@contoso.com', 'SMTP Relay Tray')).toBe('SMTP Relay Tray <jts@contoso.com>');
    expect(mailbox('jts@contoso.com', 'Relay (Tray)')).toBe('"Relay (Tray)" <jts@contoso.com>');
    expect(mailbox('jts@contoso.com', 'Relais Zürich')).toBe('=?utf-8?B?UmVsYWlzIFrDvHJpY2g=?= <jts@contoso.com>');
    const state = { id: 'abc', from: 'app@jts.local', created: Date.now(), rcpts: [] } as unknown as MessageState;
    expect(() => buildDsn({ kind: 'failed', hostname: 'relay.test\r\nBcc: victim@example.net', state, recipients: [], headers: '' })).toThrow(/not a single e-mail address: "MAILER-DAEMON@relay\.test\\r\\nBcc/);
    // A hostile server's reply is made one line, not refused: the report must still go out.
    const dsn = buildDsn({ kind: 'failed', hostname: 'relay.test', state, recipients: [{ a: 'x@y.example', st: 'f', n: 1, next: 0, resp: '550 no\x00such\tuser', code: 550 }] as MessageState['rcpts'], headers: 'Subject: hi\r\n' });
    expect(dsn).toContain('Diagnostic-Code: smtp; 550 no such user');
    expect(() => receivedHeader({ helo: 'x', ip: '127.0.0.1', hostname: 'relay.test\nBcc: v@x', protocol: 'ESMTP', id: 'abc' })).toThrow(/control characters/);
  });
});
