// Debian's Chromium through playwright-core, for the settings-window tests (a downloaded browser
// does not run on these machines), and page screenshots at 100 % and 200 % display scaling.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const RENDERER_DIR = path.join(import.meta.dirname, '..', '..', 'out', 'renderer');
export const chromiumInstalled = existsSync(CHROMIUM);

export function launchChromium(): Promise<Browser> {
  if (!existsSync(path.join(RENDERER_DIR, 'index.html'))) throw new Error('out/renderer is missing: run `npm run build` first');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * Where screenshots go: docs/ only when `npm run screenshots` asks (SCREENSHOT_DIR); a test run writes
 * them to a temporary folder and leaves the checkout unchanged.
 */
export const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? path.join(os.tmpdir(), 'smtp-relay-screenshots');

/**
 * Saves `<name>.png` as the window shows the page now (800×600 at 100 %), and `<name>-200.png`
 * as Windows draws the same window at 200 % display scaling (the same layout, twice the pixels).
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const docs = SCREENSHOT_DIR;
  await fs.mkdir(docs, { recursive: true });
  const { width, height } = page.viewportSize() ?? { width: 800, height: 600 };
  await page.screenshot({ path: path.join(docs, `${name}.png`) });
  // Straight through the DevTools protocol: Playwright's own screenshot would restore the page's scale first.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 2, mobile: false });
  try {
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const { data } = await cdp.send('Page.captureScreenshot', { format: 'png' });
    await fs.writeFile(path.join(docs, `${name}-200.png`), Buffer.from(data, 'base64'));
  } finally {
    await cdp.send('Emulation.clearDeviceMetricsOverride');
    await cdp.detach();
  }
}

/** The page's horizontal overflow in CSS pixels: 0 when nothing is cut off or needs sideways scrolling. */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    let worst = document.documentElement.scrollWidth - document.documentElement.clientWidth;
    for (const el of document.querySelectorAll<HTMLElement>('main, main *')) {
      if (el.offsetParent === null) continue; // not shown
      const style = getComputedStyle(el);
      if (style.overflowX === 'auto' || style.overflowX === 'scroll') worst = Math.max(worst, el.scrollWidth - el.clientWidth);
    }
    return worst;
  });
}
