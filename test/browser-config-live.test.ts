// Two writers of one configuration, in real Chromium on the built page against a real relay: a hand edit of
// config.json reaches the open window within 2 s, and a Save based on settings that changed after the page
// loaded them is refused (the page then shows the current ones) instead of silently undoing the edit.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumInstalled, launchChromium, RENDERER_DIR } from './support/browser.js';
import { startHttpBridge, type HttpBridge } from './support/http-bridge.js';
import { startRelay, type TestRelay } from './support/relay.js';

describe.skipIf(!chromiumInstalled)('config written by two hands', () => {
  let relay: TestRelay;
  let bridge: HttpBridge;
  let browser: Browser;
  let page: Page;
  let file: string;

  /** What an admin does in Notepad: change one value of the listen section and save the file. */
  const handEdit = async (maxMessageBytes: number) => {
    const c = JSON.parse(await fs.readFile(file, 'utf8')) as { listen: { maxMessageBytes: number } };
    c.listen.maxMessageBytes = maxMessageBytes;
    await fs.writeFile(file, JSON.stringify(c, null, 2));
  };

  beforeAll(async () => {
    relay = await startRelay({});
    file = path.join(relay.dataDir, 'config.json');
    bridge = await startHttpBridge(relay.relay, RENDERER_DIR);
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
    await context.addInitScript({ content: bridge.initScript });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${bridge.url}/index.html#/listener`);
    await page.getByRole('region', { name: 'Listener', exact: true }).waitFor();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await bridge?.close();
    await relay?.stop(1000);
  });

  it('a hand edit shows up in the open window within 2 s', async () => {
    const size = page.getByRole('region', { name: 'Listener', exact: true }).getByLabel('Largest message (MB)');
    expect(await size.inputValue()).toBe('25');
    const t0 = Date.now();
    await handEdit(10 * 1024 * 1024);
    await expect.poll(() => size.inputValue(), { timeout: 2000 }).toBe('10');
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('a Save based on settings that changed meanwhile is refused, and the page shows the current settings', async () => {
    const s = page.getByRole('region', { name: 'Listener', exact: true });
    await s.getByLabel('Largest message (MB)').fill('5'); // the admin starts typing …
    await handEdit(12 * 1024 * 1024); // … while a colleague edits config.json
    await expect.poll(async () => (await relay.relay.getConfig()).listen.maxMessageBytes, { timeout: 2000 }).toBe(12 * 1024 * 1024);
    expect(await s.getByLabel('Largest message (MB)').inputValue()).toBe('5'); // the typing is not swept away
    await s.getByRole('button', { name: 'Save', exact: true }).click();
    await s.getByText(/changed elsewhere .* so your change was not saved/).waitFor();
    expect((await relay.relay.getConfig()).listen.maxMessageBytes).toBe(12 * 1024 * 1024);
    expect(await s.getByLabel('Largest message (MB)').inputValue()).toBe('12');
    // Made again on the current settings, the change goes through.
    await s.getByLabel('Largest message (MB)').fill('5');
    await s.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(async () => (await relay.relay.getConfig()).listen.maxMessageBytes, { timeout: 5000 }).toBe(5 * 1024 * 1024);
  });
});
