// For browser tests whose cases each start from their own config: Chromium once per file, and per test a
// real relay, the HTTP bridge and the built window (800×600) on it, closed after the test, which fails
// on any script error the page reported.
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import { launchChromium, RENDERER_DIR } from './browser.js';
import { startHttpBridge, type HttpBridge } from './http-bridge.js';
import { startRelay, type TestRelay } from './relay.js';

export interface WindowSession {
  /** This test's window and relay (after open()). */
  readonly page: Page;
  readonly relay: TestRelay;
  /** Starts a relay with `config` and opens the window at `#/hash`. */
  open(config: ConfigInput, hash?: string): Promise<void>;
}

export function windowSession(options: { clipboard?: boolean } = {}): WindowSession {
  let browser: Browser;
  let relay: TestRelay | null = null;
  let bridge: HttpBridge | null = null;
  let page: Page | null = null;
  const problems: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await page?.context().close();
    await bridge?.close();
    await relay?.stop(1000);
    page = null;
    bridge = null;
    relay = null;
    expect(problems.splice(0)).toEqual([]);
  });

  return {
    get page() {
      if (!page) throw new Error('open() the window first');
      return page;
    },
    get relay() {
      if (!relay) throw new Error('open() the window first');
      return relay;
    },
    async open(config, hash = 'settings') {
      relay = await startRelay(config);
      bridge = await startHttpBridge(relay.relay, RENDERER_DIR);
      const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
      if (options.clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: bridge.url });
      await context.addInitScript({ content: bridge.initScript });
      page = await context.newPage();
      page.setDefaultTimeout(15_000);
      page.on('pageerror', (e) => problems.push(`error: ${e.message}`));
      page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
      await page.goto(`${bridge.url}/index.html#/${hash}`);
    },
  };
}
