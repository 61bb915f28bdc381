// greetPromptly (src/receive/greeting.ts): trusted clients are greeted without smtp-server's 100 ms
// early-talker pause, exactly once; everyone else keeps the pause. These tests also pin the two facts
// of smtp-server it relies on, so an upgrade that changes them fails here.
import { afterEach, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { greetPromptly } from '../src/receive/greeting.js';
import { RawSmtp } from './support/raw-smtp.js';

let server: SMTPServer | null = null;

afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

async function start(trusted: (ip: string) => boolean, maxClients = 10): Promise<number> {
  server = new SMTPServer({
    authOptional: true, disabledCommands: ['AUTH', 'STARTTLS'], disableReverseLookup: true, logger: false, maxClients,
    onData: (stream, _session, cb) => { stream.resume(); stream.on('end', () => cb(null, 'Ok')); },
  });
  greetPromptly(server, trusted);
  const s = server;
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const addr = s.server.address();
  return typeof addr === 'object' && addr ? addr.port : 0;
}

/** Everything the server sends within `ms` after connecting, and when its first line came. */
async function firstLines(port: number, ms = 300): Promise<{ text: string; firstAfter: number }> {
  const c = await RawSmtp.connect(port);
  const t0 = performance.now();
  let firstAfter = -1;
  let text = '';
  c.socket.on('data', (d: string) => { if (firstAfter < 0) firstAfter = performance.now() - t0; text += d; });
  await new Promise((r) => setTimeout(r, ms));
  c.close();
  return { text, firstAfter };
}

it('greets a trusted client at once, exactly once, and the session works as usual', async () => {
  const port = await start(() => true);
  const { text, firstAfter } = await firstLines(port);
  expect(text.match(/^220 /gm)?.length, text).toBe(1); // the pause timer's later call greets no second time
  expect(firstAfter).toBeGreaterThanOrEqual(0);
  expect(firstAfter).toBeLessThan(60);

  const c = await RawSmtp.connect(port);
  try {
    const replies = await c.envelope('a@x.test', ['b@y.test']);
    expect(replies.map((r) => r.slice(0, 3))).toEqual(['220', '250', '250', '250']);
    expect(await c.command('DATA')).toMatch(/^354/);
    expect(await c.command('Subject: t\r\n\r\nbody\r\n.')).toMatch(/^250/);
    expect(await c.command('QUIT')).toMatch(/^221/);
  } finally {
    c.close();
  }
});

it('keeps the pause, and the early-talker check, for other clients', async () => {
  const port = await start(() => false);
  const { text, firstAfter } = await firstLines(port);
  expect(text.match(/^220 /gm)?.length, text).toBe(1);
  expect(firstAfter).toBeGreaterThanOrEqual(90);

  const c = await RawSmtp.connect(port);
  try {
    c.socket.write('EHLO early.test\r\n');
    expect(await c.reply()).toMatch(/^421 .*talk too soon/);
  } finally {
    c.close();
  }
});

it('a connection over maxClients gets its 421 and no greeting', async () => {
  const port = await start(() => true, 1);
  const first = await RawSmtp.connect(port);
  try {
    expect(await first.reply()).toMatch(/^220 /);
    const { text } = await firstLines(port);
    expect(text).toMatch(/^421 /);
    expect(text).not.toMatch(/^220 /m);
  } finally {
    first.close();
  }
});
