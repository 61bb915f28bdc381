// The built settings page in real Chromium, served by the app:// handler's own code with its
// Content-Security-Policy, and a stand-in window.relay: the page must run under the policy (no
// violation, no error) and reach the relay only through window.relay.
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ORIGIN, serveAppRequest } from '../src/desktop/app-protocol.js';

const CHROMIUM = '/usr/bin/chromium';
const rendererDir = path.join(import.meta.dirname, '..', 'out', 'renderer');
// `npm test` builds out/ (electron-vite) before running the tests.
const runnable = existsSync(CHROMIUM) && existsSync(path.join(rendererDir, 'index.html'));

describe.skipIf(!runnable)('settings page under the app:// policy (Chromium)', () => {
  let server: http.Server;
  let base = '';
  let browser: Browser;

  beforeAll(async () => {
    // Plays Electron's protocol.handle: each request goes to serveAppRequest as an app://relay URL.
    server = http.createServer((req, res) => {
      void serveAppRequest(new Request(`${APP_ORIGIN}${req.url ?? '/'}`, { method: req.method }), rendererDir).then(async (r) => {
        res.writeHead(r.status, Object.fromEntries(r.headers));
        res.end(Buffer.from(await r.arrayBuffer()));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
  });

  it('runs without a policy violation or error, and asks window.relay for the status', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    await page.addInitScript(() => {
      const calls: string[] = [];
      const w = window as unknown as Record<string, unknown>;
      w.__calls = calls;
      w.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => (w.__violations as string[]).push(`${e.violatedDirective} ${e.blockedURI}`));
      const status = { state: 'running', queued: 3, deferred: 1, failed: 0, corrupt: 0, sending: 0, oldestQueuedSeconds: 720, lastError: null, lastDelivery: null, listening: '127.0.0.1:25',
        health: { state: 'running', title: 'Running', cause: 'Accepting and delivering mail; 3 messages waiting.', nextTry: null, action: null, severity: 'warning' } };
      w.relay = new Proxy({}, {
        get: (_t, name: string) => () => {
          calls.push(name);
          if (name === 'onStatus') return () => calls.push('unsubscribe');
          return Promise.resolve(name === 'getStatus' ? status : null);
        },
      });
    });
    const response = await page.goto(`${base}/index.html#/settings`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForFunction(() => (document.getElementById('root')?.textContent ?? '').length > 0);
    await page.waitForTimeout(200);
    const { calls, violations } = await page.evaluate(() => ({
      calls: (window as unknown as { __calls: string[] }).__calls,
      violations: (window as unknown as { __violations: string[] }).__violations,
    }));
    expect(violations).toEqual([]);
    expect(problems).toEqual([]);
    expect(calls).toContain('getStatus');
    await page.close();
  });

  it('the policy is really enforced: an injected inline script does not run', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/index.html`);
    const ran = await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inline = true';
      document.body.appendChild(s);
      return (window as unknown as { __inline?: boolean }).__inline === true;
    });
    expect(ran).toBe(false);
    await page.close();
  });
});
