// window.relay over HTTP, for the browser tests. Plays the tray app's two halves for a page in plain
// Chromium: the app:// handler (the built page from out/renderer, with its Content-Security-Policy)
// and the IPC handlers, which are the real ones (src/ipc/handlers.ts: the contract's methodArgs check
// every call before it reaches the RelayService). Calls are POSTs; status and test-step events go out
// as Server-Sent Events. `initScript` builds window.relay in the page with the preload's own
// createRelayBridge, over fetch and EventSource (http-bridge-client.ts, bundled here by Vite).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { build, type Rolldown } from 'vite';
import type { RelayApi } from '../../src/api/contract.js';
import { APP_ORIGIN, serveAppRequest } from '../../src/desktop/app-protocol.js';
import { STATUS_CHANNEL, TEST_STEP_CHANNEL, type IpcReply } from '../../src/ipc/channels.js';
import { registerRelayHandlers, type IpcInvokeEvent, type IpcMainLike } from '../../src/ipc/handlers.js';

export interface HttpBridge {
  /** http://127.0.0.1:PORT, the page's origin. */
  url: string;
  /** For page.addInitScript({ content }): defines window.relay before the page's scripts run. */
  initScript: string;
  /** Every call the relay answered without an error, in order (refused ones are not listed). */
  calls: string[];
  close(): Promise<void>;
}

type Handler = (event: IpcInvokeEvent, ...args: unknown[]) => Promise<IpcReply>;

const MAX_BODY = 1024 * 1024;

export async function startHttpBridge(relay: RelayApi, rendererDir: string): Promise<HttpBridge> {
  const handlers = new Map<string, Handler>();
  const ipc: IpcMainLike = { handle: (channel, fn) => handlers.set(channel, fn), removeHandler: (channel) => handlers.delete(channel) };
  let url = '';
  // The sender check, as in Electron: only the page from this server (the browser sends its Origin).
  registerRelayHandlers(ipc, relay, (event) => event.senderFrame?.url === url);
  const calls: string[] = [];

  const server = http.createServer((req, res) => {
    const route = new URL(req.url ?? '/', 'http://bridge');
    if (route.pathname === '/relay/events') return streamEvents(relay, res);
    if (route.pathname.startsWith('/relay/') && req.method === 'POST') {
      const channel = decodeURIComponent(route.pathname.slice('/relay/'.length));
      return void call(handlers.get(channel), req, res).then((ok) => ok && calls.push(channel.replace(/^relay:/, '')));
    }
    void serveAppRequest(new Request(`${APP_ORIGIN}${req.url ?? '/'}`, { method: req.method }), rendererDir).then(async (r) => {
      res.writeHead(r.status, Object.fromEntries(r.headers));
      res.end(Buffer.from(await r.arrayBuffer()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    initScript: await clientScript(),
    calls,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections(); // the event streams stay open otherwise
      server.close(() => resolve());
    }),
  };
}

/** One RelayApi call: the JSON array of arguments in, the handler's IpcReply out. Resolves true when the relay answered it. */
async function call(handler: Handler | undefined, req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (!handler) return send(404, { error: 'no such method' }), false;
  let args: unknown;
  try {
    args = JSON.parse(await readBody(req));
  } catch (e) {
    return send(400, { error: (e as Error).message }), false;
  }
  if (!Array.isArray(args)) return send(400, { error: 'the body must be the array of arguments' }), false;
  const event: IpcInvokeEvent = { sender: { id: 1 }, senderFrame: { url: req.headers.origin ?? '', parent: null } };
  try {
    const reply = await handler(event, ...args);
    send(200, reply);
    return reply.ok;
  } catch (e) {
    send(403, { error: (e as Error).message }); // refused by the sender check
    return false;
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_BODY) req.destroy(new Error('request too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function streamEvents(relay: RelayApi, res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
  res.write(': connected\n\n');
  const send = (channel: string) => (value: unknown) => res.write(`event: ${channel}\ndata: ${JSON.stringify(value)}\n\n`);
  const unsubscribe = [relay.onStatus(send(STATUS_CHANNEL)), relay.onTestStep(send(TEST_STEP_CHANNEL))];
  res.on('close', () => unsubscribe.forEach((u) => u()));
}

let bundled: Promise<string> | undefined;

/** http-bridge-client.ts and what it imports, as one classic script (init scripts cannot be modules). */
function clientScript(): Promise<string> {
  bundled ??= build({
    configFile: false,
    logLevel: 'silent',
    publicDir: false,
    build: {
      write: false,
      minify: false,
      lib: { entry: path.join(import.meta.dirname, 'http-bridge-client.ts'), formats: ['iife'], name: 'relayHttpBridge' },
    },
  }).then((out) => {
    const output = (Array.isArray(out) ? out[0] : out) as Rolldown.RolldownOutput;
    return output.output[0].code;
  });
  return bundled;
}
