// State-change events: what is written for the Windows Event Log (by its command line; Windows only),
// the events a real relay raises and clears, and the systemd journal for real, through util-linux
// `logger --journald` into a datagram socket that stands in for /run/systemd/journal/socket.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { saveConfig } from '../src/config/store.js';
import { journalCommand, messageId, relayEvent, systemEventSink, windowsEventCommand, type EventCommand, type RelayEventRecord } from '../src/monitor/event-log.js';
import { watchStateChanges } from '../src/monitor/state-events.js';
import { BIN } from './support/cli.js';
import { RawSmtp } from './support/raw-smtp.js';
import { freePort, startRelay, tempDataDir, waitFor } from './support/relay.js';
import { mountSmallDisk } from './support/small-disk.js';
import { startUpstream } from './support/upstream.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function send(port: number): Promise<void> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  await t.sendMail({ from: 'app@jts.local', to: 'ops@contoso.com', subject: 'nightly build', text: 'x' });
  t.close();
}

describe('Windows Event Log command', () => {
  it('Write-EventLog with our source, the event ID and type; the message in the environment, unquoted', () => {
    const e = relayEvent('sign-in-failed', 'sign-in failed: 535 5.7.139 Authentication unsuccessful, \'basic auth\' is "disabled"; $(rm -rf)\r\n');
    const c = windowsEventCommand(e);
    expect(c.file).toBe('powershell.exe');
    expect(c.args).toEqual(['-NoProfile', '-NonInteractive', '-Command',
      'Write-EventLog -LogName Application -Source \'SMTP Relay Tray\' -EventId 1100 -EntryType Error -Message $env:SMTP_RELAY_EVENT_MESSAGE']);
    expect(c.env).toEqual({ SMTP_RELAY_EVENT_MESSAGE: 'sign-in failed: 535 5.7.139 Authentication unsuccessful, \'basic auth\' is "disabled"; $(rm -rf)' });
    expect(windowsEventCommand(relayEvent('mail-stuck', 'x')).args[3]).toMatch(/-EventId 1102 -EntryType Warning /);
    expect(windowsEventCommand(relayEvent('started', 'x')).args[3]).toMatch(/-EventId 1000 -EntryType Information /);
  });

  it('the sink writes the delivery log always, runs the platform writer, and says once when it fails', async () => {
    const lines: string[] = [];
    const ran: EventCommand[] = [];
    const sink = systemEventSink({ log: (level, text) => lines.push(`${level} ${text}`), platform: 'win32', env: {}, run: async (c) => { ran.push(c); return 'Write-EventLog : The source name "SMTP Relay Tray" does not exist'; } });
    sink.write(relayEvent('disk-low', 'disk low'));
    sink.write(relayEvent('recovered', 'room again'));
    await waitFor(() => lines.length === 3, 2000, 'the log lines');
    expect(lines).toEqual([
      'warning event 1103 disk-low: disk low',
      'info event 1002 recovered: room again',
      'warning cannot write to the Windows Event Log (Write-EventLog : The source name "SMTP Relay Tray" does not exist); events stay in this log',
    ]);
    expect(ran.map((c) => c.args[3]?.match(/-EventId (\d+)/)?.[1])).toEqual(['1103', '1002']);
    const linux = systemEventSink({ log: () => {}, platform: 'linux', env: {}, run: async (c) => { ran.push(c); return null; } });
    linux.write(relayEvent('started', 'x'));
    expect(ran).toHaveLength(2); // not under systemd: the delivery log only
  });
});

describe('state changes of a real relay', () => {
  it('raises unreachable smarthost and stuck mail once each, and recovered when mail flows again', async () => {
    const smarthostPort = await freePort();
    const t = await startRelay({ delivery: { retrySchedule: '1s' }, smarthost: { host: '127.0.0.1', port: smarthostPort, security: 'none' } });
    cleanups.push(() => t.stop());
    const events: RelayEventRecord[] = [];
    const watch = watchStateChanges(t.relay, { write: (e) => events.push(e) }, { alertAfterMs: 1000, tickMs: 100 });
    cleanups.push(() => watch.close());
    const names = () => events.map((e) => e.name);
    await send(t.port);
    await waitFor(() => names().includes('smarthost-unreachable') && names().includes('mail-stuck'), 20_000, 'the unreachable and stuck events');
    expect(names().slice(0, 1)).toEqual(['started']);
    expect(events.find((e) => e.name === 'smarthost-unreachable')).toMatchObject({ id: 1101, level: 'error', message: expect.stringMatching(/^smarthost 127\.0\.0\.1\[127\.0\.0\.1\]:\d+ unreachable since \d{4}-\d\d-\d\dT[\d:.]+Z: .*ECONNREFUSED/) });
    expect(events.find((e) => e.name === 'mail-stuck')?.message).toMatch(/^mail stuck: the oldest of 1 waiting messages has waited \d+ s; last error: /);
    await new Promise((r) => setTimeout(r, 1500));
    expect(names().filter((n) => n !== 'started' && n !== 'recovered')).toEqual(expect.arrayContaining(['smarthost-unreachable', 'mail-stuck']));
    expect(names().filter((n) => n === 'smarthost-unreachable' || n === 'mail-stuck')).toHaveLength(2); // once each, however long it lasts

    const up = await startUpstream({ starttls: 'disabled', port: smarthostPort });
    cleanups.push(() => up.stop());
    await t.relay.retryAll();
    await waitFor(() => events.filter((e) => e.name === 'recovered').length === 2, 20_000, 'two recovered events');
    expect(events.filter((e) => e.name === 'recovered').map((e) => e.message).sort()).toEqual([
      'mail is moving again: nothing has waited longer than the alert time',
      expect.stringMatching(/^smarthost 127\.0\.0\.1\[127\.0\.0\.1\]:\d+ reachable again$/),
    ]);
    watch.close();
    expect(events.at(-1)).toMatchObject({ name: 'stopped', id: 1001 });
  });
});

describe('disk low', () => {
  it('a spool disk too full for new mail is one disk-low event, and room again one recovered event', async () => {
    const disk = await mountSmallDisk(16 * 1024 * 1024); // root or passwordless sudo, like the disk-full tests
    cleanups.push(() => disk.unmount());
    const t = await startRelay({ listen: { maxMessageBytes: 4 * 1024 * 1024 } }, { dataDir: disk.dir });
    cleanups.push(() => t.stop());
    const events: RelayEventRecord[] = [];
    const watch = watchStateChanges(t.relay, { write: (e) => events.push(e) }, { tickMs: 100 });
    cleanups.push(() => watch.close());
    const mailFrom = async () => {
      const c = await RawSmtp.connect(t.port);
      cleanups.push(async () => c.close());
      expect(await c.reply()).toMatch(/^220/);
      await c.command('EHLO app.test');
      return c.command('MAIL FROM:<app@app.test>');
    };
    await disk.fill(2 * 1024 * 1024);
    expect(await mailFrom()).toMatch(/^452 4\.3\.1/);
    await waitFor(() => events.some((e) => e.name === 'disk-low'), 5000, 'the disk-low event');
    expect(await mailFrom()).toMatch(/^452/);
    expect(events.find((e) => e.name === 'disk-low')).toMatchObject({ id: 1103, level: 'warning', message: expect.stringMatching(/^disk low: the spool's disk \(.*\) has only \d+ MB free/) });
    await disk.drain();
    await new Promise((r) => setTimeout(r, 1100)); // free space is read at most once a second
    expect(await mailFrom()).toMatch(/^250/);
    await waitFor(() => events.some((e) => e.name === 'recovered'), 5000, 'the recovered event');
    expect(events.filter((e) => e.name !== 'started').map((e) => `${e.id} ${e.message}`)).toEqual([
      expect.stringMatching(/^1103 disk low: /),
      '1002 the spool\'s disk has room again',
    ]);
  });
});

describe('systemd journal', () => {
  it('a relay run by systemd sends its events with a stable MESSAGE_ID to the journal socket', async () => {
    const work = await tempDataDir();
    cleanups.push(() => fs.rm(work, { recursive: true, force: true }));
    const journalDir = path.join(work, 'journal');
    await fs.mkdir(journalDir);
    // The stand-in journal: a Unix datagram socket (Node has none, Python's standard library does).
    const listener = spawn('python3', ['-u', '-c', [
      'import socket, sys, json',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      `s.bind(${JSON.stringify(path.join(journalDir, 'socket'))})`,
      'print("ready")',
      'while True: print(json.dumps(s.recv(1 << 20).decode()))',
    ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => listener.kill());
    const datagrams: string[] = [];
    let ready = false;
    listener.stdout.setEncoding('utf8').on('data', (d: string) => {
      for (const line of d.split('\n').filter(Boolean)) {
        if (line === 'ready') ready = true;
        else datagrams.push(JSON.parse(line) as string);
      }
    });
    await waitFor(() => ready, 10_000, 'the stand-in journal socket');

    const up = await startUpstream({ starttls: 'disabled', auth: { user: 'jts@contoso.com', pass: 'right' } });
    cleanups.push(() => up.stop());
    const dataDir = path.join(work, 'data');
    const port = await freePort();
    await saveConfig(dataDir, { listen: { port }, smarthost: { host: '127.0.0.1', port: up.port, security: 'none', auth: { method: 'password', username: 'jts@contoso.com' } } });
    // A private mount namespace puts the stand-in where libsystemd looks: /run/systemd/journal/socket.
    const script = 'mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal && mount --bind "$JOURNAL_DIR" /run/systemd/journal && exec "$NODE" "$BIN" run --data-dir "$DATA_DIR"';
    // Needs root or passwordless sudo, like the disk-full tests' tmpfs.
    const [command, ...args] = [...(process.getuid?.() === 0 ? [] : ['sudo', '-n', '--preserve-env']), 'unshare', '-m', 'sh', '-c', script];
    const relay = spawn(command, args, {
      env: { ...process.env, JOURNAL_DIR: journalDir, NODE: process.execPath, BIN, DATA_DIR: dataDir, JOURNAL_STREAM: '8:12345', SMTP_RELAY_SMARTHOST_PASSWORD: 'wrong' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    relay.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    relay.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
    const exited = new Promise((resolve) => relay.once('exit', resolve));
    cleanups.push(async () => { relay.kill('SIGKILL'); await exited; });
    await waitFor(() => out.includes('listening on'), 20_000, `the relay to start: ${out}`);
    await send(port);

    const fields = (d: string) => Object.fromEntries(d.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const byId = (id: number) => datagrams.map(fields).find((f) => f.MESSAGE_ID === messageId(id));
    await waitFor(() => byId(1100), 20_000, `the sign-in-failed entry (received: ${JSON.stringify(datagrams)}; relay: ${out})`);
    expect(byId(1000)).toMatchObject({ MESSAGE_ID: '7b3e52d0c4a94f1e8d6a05f2b91c03e8', PRIORITY: '6', SYSLOG_IDENTIFIER: 'smtp-relay', SMTP_RELAY_EVENT: 'started', MESSAGE: expect.stringMatching(/^started \(event 1000\): started, listening on 127\.0\.0\.1:\d+/) });
    expect(byId(1100)).toMatchObject({ MESSAGE_ID: '7b3e52d0c4a94f1e8d6a05f2b91c044c', PRIORITY: '3', SMTP_RELAY_EVENT_ID: '1100', MESSAGE: expect.stringMatching(/^sign-in-failed \(event 1100\): sign-in failed, .*535/) });
    relay.kill('SIGTERM');
    await exited;
    await waitFor(() => byId(1001), 10_000, 'the stopped entry');
    const log = await fs.readFile(path.join(dataDir, 'logs', 'relay.log'), 'utf8');
    expect(log).toMatch(/ error event 1100 sign-in-failed: sign-in failed, .*535/);
    expect(log).toMatch(/ info event 1001 stopped: stopped/);
    expect(journalCommand(relayEvent('stopped', 'x')).args).toEqual(['--journald']);
  });
});
