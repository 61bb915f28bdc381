// window.relay over IPC, with a fake ipcMain that behaves like Electron's (one handler per channel,
// invoke passes the event first): registration, the sender check, argument validation, the preload's
// bridge, and a real RelayService behind it to show the password never comes back.
import fs from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { methodArgs, RelayError, type RelayApi, type RelayStatus } from '../src/api/contract.js';
import { createRelayBridge } from '../src/ipc/bridge.js';
import { RELAY_METHODS } from '../src/api/calls.js';
import { invokeChannel, type IpcReply } from '../src/ipc/channels.js';
import { registerRelayHandlers, type IpcInvokeEvent, type IpcMainLike } from '../src/ipc/handlers.js';
import { isTrustedSender } from '../src/ipc/sender.js';
import { RelayService } from '../src/relay.js';
import { saveConfig } from '../src/config/store.js';
import { MemoryCredentialStore } from '../src/secrets/credential-store.js';
import { status } from './support/relay-status.js';
import { tempDataDir } from './support/relay.js';

type Listener = (event: IpcInvokeEvent, ...args: unknown[]) => Promise<IpcReply>;

class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, Listener>();
  /** Every reply that went back to a renderer, as Electron would serialise it. */
  readonly replies: string[] = [];

  handle(channel: string, listener: Listener): void {
    // Electron throws on a second handler for the same channel.
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }

  async invoke(event: IpcInvokeEvent, channel: string, ...args: unknown[]): Promise<unknown> {
    const listener = this.handlers.get(channel);
    if (!listener) throw new Error(`No handler registered for '${channel}'`);
    const reply = await listener(event, ...structuredClone(args));
    this.replies.push(JSON.stringify(reply));
    return structuredClone(reply);
  }
}

const WINDOW_ID = 7;
const trusted = { webContentsIds: new Set([WINDOW_ID]), origins: ['app://relay'] };
const fromWindow: IpcInvokeEvent = { sender: { id: WINDOW_ID }, senderFrame: { url: 'app://relay/index.html#/queue', parent: null } };

/** A RelayApi that records calls and answers `value`. */
function recordingApi(value: unknown = 'ok') {
  const calls: [string, unknown[]][] = [];
  const listeners: ((s: RelayStatus) => void)[] = [];
  const api = Object.fromEntries(RELAY_METHODS.map((m) => [m, async (...args: unknown[]) => { calls.push([m, args]); return value; }])) as unknown as RelayApi;
  api.onStatus = (l) => { listeners.push(l); return () => listeners.splice(listeners.indexOf(l), 1); };
  return { api, calls, listeners };
}

function serve(api: RelayApi) {
  const ipc = new FakeIpcMain();
  const unregister = registerRelayHandlers(ipc, api, (e) => isTrustedSender(e, trusted));
  return { ipc, unregister };
}

/** One valid call per method. */
const VALID: Record<(typeof RELAY_METHODS)[number], unknown[]> = {
  getStatus: [], listQueue: [{ offset: 0, limit: 50 }], getMessage: ['0mi8x2k3a9f0b1c2'], retry: ['0mi8x2k3a9f0b1c2'],
  retryAll: [], bulk: ['retry', ['0mi8x2k3a9f0b1c2']], deleteMessage: ['0mi8x2k3a9f0b1c2'], pause: [], resume: [], getConfig: [],
  setConfig: [{ smarthost: { host: 'smtp.office365.com' } }], setPassword: ['hunter2'], deletePassword: [],
  getPasswordStatus: [], testConnection: [], sendTest: ['dev@contoso.com'],
  route: ['dev@contoso.com', 'jts@jts.localdomain'], previewRewrite: ['jts@jts.localdomain'],
  getOAuthStatus: [], setOAuthSecret: ['refresh-token', '1//0g-token'], deleteOAuthSecret: ['certificate'], oauthLogin: [],
  validateConfig: [{ smarthost: { port: 70000 } }], getLog: [{ contains: 'status=sent', limit: 100 }], reopenAsAdministrator: [],
};

describe('ipc: registration', () => {
  it('one handler per contract method, exactly, and all removed again', () => {
    expect([...RELAY_METHODS].sort()).toEqual(Object.keys(methodArgs).sort());
    const { ipc, unregister } = serve(recordingApi().api);
    expect([...ipc.handlers.keys()].sort()).toEqual(Object.keys(methodArgs).map((m) => `relay:${m}`).sort());
    unregister();
    expect(ipc.handlers.size).toBe(0);
  });

  it('a trusted call reaches the relay with its validated arguments', async () => {
    const { api, calls } = recordingApi({ queued: 1 });
    const { ipc } = serve(api);
    for (const m of RELAY_METHODS) {
      expect(await ipc.invoke(fromWindow, invokeChannel(m), ...VALID[m])).toEqual({ ok: true, value: { queued: 1 } });
    }
    expect(calls).toEqual(RELAY_METHODS.map((m) => [m, VALID[m]]));
  });
});

describe('ipc: the sender check', () => {
  const untrusted: [string, IpcInvokeEvent][] = [
    ['another window', { ...fromWindow, sender: { id: WINDOW_ID + 1 } }],
    ['an iframe inside the window', { ...fromWindow, senderFrame: { url: 'app://relay/index.html', parent: {} } }],
    ['a page from the web', { ...fromWindow, senderFrame: { url: 'https://evil.example/', parent: null } }],
    ['a local file', { ...fromWindow, senderFrame: { url: 'file:///C:/Users/x/Downloads/page.html', parent: null } }],
    ['another app:// host', { ...fromWindow, senderFrame: { url: 'app://evil/index.html', parent: null } }],
    ['a look-alike origin', { ...fromWindow, senderFrame: { url: 'app://relay.evil/index.html', parent: null } }],
    ['the dev server when not in development', { ...fromWindow, senderFrame: { url: 'http://localhost:5173/', parent: null } }],
    ['a destroyed frame', { ...fromWindow, senderFrame: null }],
    ['no URL at all', { ...fromWindow, senderFrame: { url: '', parent: null } }],
  ];
  for (const [name, event] of untrusted) {
    it(`refuses ${name}, and the relay is not called`, async () => {
      const { api, calls } = recordingApi();
      const { ipc } = serve(api);
      await expect(ipc.invoke(event, 'relay:setPassword', 'hunter2')).rejects.toThrow(/refused relay:setPassword .*not the settings window/);
      await expect(ipc.invoke(event, 'relay:getStatus')).rejects.toThrow(/refused/);
      expect(calls).toEqual([]);
    });
  }

  it('accepts the Vite dev server only when its origin is listed (electron-vite dev)', () => {
    const dev: IpcInvokeEvent = { ...fromWindow, senderFrame: { url: 'http://localhost:5173/#/queue', parent: null } };
    expect(isTrustedSender(dev, trusted)).toBe(false);
    expect(isTrustedSender(dev, { ...trusted, origins: ['app://relay', 'http://localhost:5173'] })).toBe(true);
  });
});

describe('ipc: argument validation', () => {
  const bad: [string, unknown[], RegExp][] = [
    ['getStatus', ['extra'], /getStatus: /],
    ['getMessage', [42], /getMessage: 0 /],
    ['retry', ['../../etc/passwd'], /retry: 0 is not a queue id/],
    ['deleteMessage', [], /deleteMessage: /],
    ['listQueue', [{ limit: 1_000_000 }], /listQueue/],
    ['setConfig', ['{"smarthost":{}}'], /setConfig: 0 /],
    ['setPassword', [''], /setPassword: 0 /],
    ['setPassword', ['x'.repeat(4097)], /setPassword: 0 /],
    ['setPassword', [{ toString: 'hunter2' }], /setPassword: 0 /],
    ['sendTest', ['not an address'], /sendTest: 0 is not an e-mail address/],
    ['sendTest', ['a@b.c', 'b@c.d'], /sendTest: /],
  ];
  for (const [method, args, message] of bad) {
    it(`refuses ${method}(${JSON.stringify(args).slice(1, 40)}) as invalid without calling the relay`, async () => {
      const { api, calls } = recordingApi();
      const { ipc } = serve(api);
      const reply = (await ipc.invoke(fromWindow, `relay:${method}`, ...args)) as IpcReply;
      expect(reply.ok).toBe(false);
      expect(!reply.ok && reply.error.kind).toBe('invalid');
      expect(!reply.ok && reply.error.message).toMatch(message);
      expect(calls).toEqual([]);
    });
  }

  it('passes the relay\'s error kinds through and hides nothing else', async () => {
    const { api } = recordingApi();
    api.getMessage = async (id) => { throw new RelayError('not-found', `no message ${id} in the queue`); };
    api.getStatus = async () => { throw new TypeError('boom'); };
    const { ipc } = serve(api);
    expect(await ipc.invoke(fromWindow, 'relay:getMessage', '0mi8x2k3a9f0b1c2'))
      .toEqual({ ok: false, error: { kind: 'not-found', message: 'no message 0mi8x2k3a9f0b1c2 in the queue' } });
    expect(await ipc.invoke(fromWindow, 'relay:getStatus')).toEqual({ ok: false, error: { kind: 'internal', message: 'boom' } });
  });
});

describe('ipc: the preload bridge (window.relay)', () => {
  it('has exactly the RelayApi methods: no generic invoke, send or ipcRenderer', () => {
    const bridge = createRelayBridge(async () => ({ ok: true, value: null }), () => () => {});
    expect(Object.keys(bridge).sort()).toEqual([...Object.keys(methodArgs), 'onStatus', 'onTestStep'].sort());
    expect(Object.isFrozen(bridge)).toBe(true);
    for (const value of Object.values(bridge)) expect(typeof value).toBe('function');
  });

  it('round-trips every call through the handlers, and turns refusals into errors with the relay\'s words', async () => {
    const { api, calls } = recordingApi(3);
    const { ipc } = serve(api);
    const relay = createRelayBridge((channel, ...args) => ipc.invoke(fromWindow, channel, ...args), () => () => {});
    expect(await relay.retryAll()).toBe(3);
    await relay.retry('0mi8x2k3a9f0b1c2');
    expect(calls).toEqual([['retryAll', []], ['retry', ['0mi8x2k3a9f0b1c2']]]);
    const error = await relay.sendTest('nobody').catch((e: Error & { kind?: string }) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ message: 'sendTest: 0 is not an e-mail address', kind: 'invalid' });
  });

  it('onStatus hands the listener the status alone, and unsubscribes', () => {
    let push: ((s: RelayStatus) => void) | null = null;
    let subscribed = 0;
    const relay = createRelayBridge(async () => null, (l) => { push = l; subscribed++; return () => { push = null; }; });
    const got: unknown[][] = [];
    const off = relay.onStatus((...args: unknown[]) => got.push(args));
    (push as unknown as (s: RelayStatus, extra: unknown) => void)(status({ queued: 2 }), { sender: 'IpcRendererEvent' });
    expect(got).toEqual([[status({ queued: 2 })]]);
    off();
    expect([subscribed, push]).toEqual([1, null]);
  });
});

describe('ipc: a real relay behind it', () => {
  let relay: RelayService | null = null;
  let dataDir = '';
  afterEach(async () => {
    await relay?.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('stores the password from the window and only ever says "a password is stored"', async () => {
    dataDir = await tempDataDir();
    const credentials = new MemoryCredentialStore();
    relay = new RelayService({ dataDir, credentials, env: {} });
    await relay.open();
    const { ipc } = serve(relay);
    const api = createRelayBridge((channel, ...args) => ipc.invoke(fromWindow, channel, ...args), () => () => {});
    const secret = 'Pa55-word-that-must-not-leak';

    expect(await api.getPasswordStatus()).toEqual({ account: null, stored: false, source: null });
    await api.setConfig({ smarthost: { host: 'smtp.office365.com', auth: { method: 'password', username: 'jts@contoso.com' } } });
    expect(await api.getPasswordStatus()).toEqual({ account: 'jts@contoso.com@smtp.office365.com', stored: false, source: null });
    await api.setPassword(secret);
    expect(await credentials.get('jts@contoso.com@smtp.office365.com')).toBe(secret);
    expect(await api.getPasswordStatus()).toEqual({ account: 'jts@contoso.com@smtp.office365.com', stored: true, source: 'keychain' });
    await api.getConfig();
    await api.getStatus();
    await api.listQueue();
    expect(await api.deletePassword()).toBe(true);
    expect(await api.getPasswordStatus()).toMatchObject({ stored: false });

    expect(ipc.replies.length).toBeGreaterThan(8);
    for (const reply of ipc.replies) expect(reply).not.toContain(secret);
    // And config.json has no trace of it either.
    expect(await fs.readFile(`${dataDir}/config.json`, 'utf8')).not.toContain(secret);
  });

  it('reports the environment variable as the source when it overrides the keychain', async () => {
    dataDir = await tempDataDir();
    // The variable is bound to the smarthost configured when the relay starts (see the Security section).
    await saveConfig(dataDir, { smarthost: { host: 'relay.contoso.com', auth: { method: 'password', username: 'svc' } } });
    relay = new RelayService({ dataDir, credentials: new MemoryCredentialStore(), env: { SMTP_RELAY_SMARTHOST_PASSWORD: 'from-env' } });
    await relay.open();
    expect(await relay.getPasswordStatus()).toEqual({ account: 'svc@relay.contoso.com', stored: true, source: 'env' });
  });
});
