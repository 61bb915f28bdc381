// The settings window as an admin uses it, in real Chromium: the BUILT page (out/renderer) under its
// Content-Security-Policy, window.relay bridged over HTTP to a real RelayService running in this
// process (test/support/http-bridge.ts, validated by the IPC handlers' own code), and a scripted
// smarthost (test/support/upstream.ts) with STARTTLS, a private CA and AUTH. The tests run in order,
// each starting where the previous one left the relay, as one first-use session would. Screenshots of
// every page are taken on the way (to a temporary folder; `npm run screenshots` writes them to docs/).
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumInstalled, horizontalOverflow, launchChromium, RENDERER_DIR, screenshot } from './support/browser.js';
import { startHttpBridge, type HttpBridge } from './support/http-bridge.js';
import { freePort, startRelay, waitFor, type TestRelay } from './support/relay.js';
import { testCertificates } from './support/tls.js';
import { startUpstream, type Upstream } from './support/upstream.js';

const USER = 'jts@contoso.com';
const PASS = 'Right-Pa55-8731';
const SUBJECT = 'SMTP Relay Tray test message';

describe.skipIf(!chromiumInstalled)('settings window (Chromium, built page, real relay)', () => {
  let up: Upstream;
  let upPort = 0;
  let relay: TestRelay;
  let bridge: HttpBridge;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  /** The page's section for one page of the window (hidden pages are not matched). */
  const region = (name: string): Locator => page.getByRole('region', { name, exact: true });
  const nav = (name: string) => page.getByRole('navigation', { name: 'Pages' }).getByRole('tab', { name: new RegExp(`^${name}`) }).click();
  const shown = (locator: Locator, timeout = 10_000) => locator.first().waitFor({ state: 'visible', timeout });

  beforeAll(async () => {
    up = await startUpstream({ auth: { user: USER, pass: PASS } });
    upPort = up.port;
    relay = await startRelay({}, { hostname: 'relay.test' });
    bridge = await startHttpBridge(relay.relay, RENDERER_DIR);
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 800, height: 600 }, acceptDownloads: true });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: bridge.url });
    await context.addInitScript({ content: bridge.initScript });
    await context.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`)));
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (e) => problems.push(`error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    const response = await page.goto(`${bridge.url}/index.html#/settings`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await shown(region('Smarthost'));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await bridge?.close();
    await relay?.stop(1000);
    await up?.stop();
  });

  it('Smarthost: the Microsoft 365 preset fills server and sign-in; Save keeps the password in the keychain only', async () => {
    const s = region('Smarthost');
    await s.getByLabel('Provider').selectOption({ label: 'Microsoft 365 (Exchange Online)' });
    expect(await s.getByLabel('Host').inputValue()).toBe('smtp.office365.com');
    expect(await s.getByLabel('Port', { exact: true }).inputValue()).toBe('587');
    expect(await s.getByLabel('Security').inputValue()).toBe('starttls');
    expect(await s.getByLabel('Sign-in method').inputValue()).toBe('password');
    expect(await s.getByLabel('Connections at once').inputValue()).toBe('3');
    await shown(s.getByText(/SMTP AUTH must be turned on for it/));
    // Nothing typed yet: nothing is red before the admin has left a field or pressed Save.
    expect(await s.locator('[aria-invalid="true"]').count()).toBe(0);
    await screenshot(page, 'settings-smarthost');
    // Save on the empty form: each message in the window's words, next to its field, not config keys.
    await s.getByRole('button', { name: 'Save', exact: true }).click();
    await shown(s.getByText('Username is required when Sign-in method is Username and password'));
    expect(await s.textContent()).not.toMatch(/auth\.method|smarthost\./);

    // The scripted smarthost stands in for Microsoft's: same port semantics, STARTTLS, a private CA, AUTH.
    const certs = await testCertificates();
    await s.getByLabel('Host').fill('localhost');
    await s.getByLabel('Port', { exact: true }).fill(String(up.port));
    await s.getByLabel('CA file (optional)').fill(certs.caCertPath);
    await s.getByLabel('Username').fill(USER);
    await s.getByLabel('Password', { exact: true }).fill(PASS);
    await waitFor(async () => !(await s.getByText('Username is required when').count()), 5000, 'the message to go');
    await s.getByRole('button', { name: 'Save', exact: true }).click();
    await shown(s.getByText('Stored in Windows Credential Manager', { exact: true }));

    expect(await relay.credentials.get(`${USER}@localhost`)).toBe(PASS);
    expect((await relay.relay.getConfig()).smarthost).toMatchObject({
      host: 'localhost', port: up.port, security: 'starttls', verifyCertificate: true, caFile: certs.caCertPath, maxConnections: 3,
      auth: { method: 'password', username: USER, mechanism: 'auto' },
    });
    // Write-only: the field is emptied, and the password is nowhere in the page or config.json.
    expect(await s.getByLabel('Password', { exact: true }).inputValue()).toBe('');
    expect(await page.content()).not.toContain(PASS);
    expect(await fs.readFile(path.join(relay.dataDir, 'config.json'), 'utf8')).not.toContain(PASS);
    expect(bridge.calls).toContain('setPassword');
  });

  it('Test connection passes: each step appears as it ends, with the server\'s replies', async () => {
    const s = region('Smarthost');
    // A smarthost slow to greet, so the steps before the greeting must show while the test still runs.
    const slow = await slowGreetingProxy(up.port);
    try {
      await s.getByLabel('Port', { exact: true }).fill(String(slow.port));
      await s.getByRole('button', { name: 'Save and test connection' }).click();
      await shown(s.locator('[data-step="tcp"][data-ok="true"]'));
      expect(await s.locator('[data-step="banner"]').count()).toBe(0);
      expect(await s.getByText('Next step…').count()).toBe(1);
      slow.release();
      await shown(s.getByText('Connection works'));
    } finally {
      await slow.close();
    }
    const steps = await s.locator('[data-step]').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-step')}:${r.getAttribute('data-ok')}`));
    expect(steps).toEqual(['dns:true', 'tcp:true', 'banner:true', 'ehlo:true', 'starttls:true', 'ehlo:true', 'auth:true']);
    expect(await s.locator('[data-step="banner"] pre').textContent()).toMatch(/^220 /);
    expect(await s.locator('[data-step="ehlo"] pre').first().textContent()).toContain('STARTTLS');
    expect(await s.locator('[data-step="starttls"]').textContent()).toMatch(/TLSv1\.[23].*SMTP Relay Tray Test CA.*trusted for localhost/);
    expect(await s.locator('[data-step="auth"] pre').textContent()).toMatch(/^235 /);

    // Back to the smarthost itself for the rest of the session.
    await s.getByLabel('Port', { exact: true }).fill(String(up.port));
    await s.getByRole('button', { name: 'Save', exact: true }).click();
    await waitFor(async () => (await relay.relay.getConfig()).smarthost.port === up.port, 5000, 'the port to be saved');
  });

  it('Test connection fails at AUTH with a wrong password: the 535 reply and the hint are shown', async () => {
    const s = region('Smarthost');
    await s.getByLabel('Password', { exact: true }).fill('wrong-password');
    await s.getByRole('button', { name: 'Save and test connection' }).click();
    await shown(s.getByText('Failed at: Sign-in (AUTH)'));
    expect(await s.locator('[data-step="auth"]').getAttribute('data-ok')).toBe('false');
    expect(await s.locator('[data-step="auth"] pre').textContent()).toBe('535 5.7.8 Authentication credentials invalid');
    const alert = s.getByRole('alert').filter({ hasText: 'Failed at' });
    expect(await alert.textContent()).toContain('The server refused the username or password.');
    expect(await alert.textContent()).toContain('What to do: Check Username and store the password again');
    expect(await alert.textContent()).not.toMatch(/smarthost\.|auth\./);
    // The verdict first, above the seven steps that led to it (not off screen below their EHLO output).
    const verdictTop = (await alert.boundingBox())!.y;
    expect(verdictTop).toBeLessThan((await s.locator('[data-step="dns"]').boundingBox())!.y);
    await s.getByText('Failed at: Sign-in (AUTH)').scrollIntoViewIfNeeded();
    await screenshot(page, 'settings-test-connection');

    await s.getByLabel('Password', { exact: true }).fill(PASS);
    await s.getByRole('button', { name: 'Save', exact: true }).click();
    await waitFor(async () => (await relay.credentials.get(`${USER}@localhost`)) === PASS, 5000, 'the right password to be stored');
  });

  it('Send test message: it goes through the queue to the smarthost, and the page says it was delivered', async () => {
    await nav('Send test message');
    const s = region('Send test message');
    await waitFor(async () => (await s.getByLabel('Send to').inputValue()) === USER, 5000, 'the login mailbox as the first address');
    await s.getByLabel('Send to').fill('dev@contoso.com');
    await s.getByRole('button', { name: 'Send test message' }).click();
    await shown(s.getByText(/^Delivered at/));
    expect(await s.getByRole('status').filter({ hasText: 'Delivered' }).textContent()).toContain('accepted it: 250 OK: queued');
    expect(up.messages.map((m) => m.to)).toEqual([['dev@contoso.com']]);
    expect(up.messages[0]?.raw.toString()).toContain(`Subject: ${SUBJECT}`);
    expect(up.messages[0]?.authUser).toBe(USER);
    await shown(page.getByTestId('relay-counts').getByText(/Last delivery: delivered to dev@contoso.com/));
    await screenshot(page, 'settings-send-test');
  });

  it('smarthost down: the message waits in Queue with its reply, arrives live, and Retry after the smarthost is back empties the queue', async () => {
    await up.stop();
    const s = region('Send test message');
    await s.getByLabel('Send to').fill('ops@contoso.com');
    await s.getByRole('button', { name: 'Send test message' }).click();
    await shown(s.getByText(/^Attempt 1 did not get through; next try in/));
    expect(await s.getByRole('status').filter({ hasText: 'Attempt 1' }).textContent()).toMatch(/ECONNREFUSED/);

    await nav('Queue');
    const q = region('Queue');
    const rows = q.getByRole('table', { name: 'Messages in the queue' }).locator('tbody tr');
    const first = rows.filter({ hasText: 'ops@contoso.com' });
    await shown(first);
    const cells = await first.locator('td').allTextContents();
    expect(cells[1]).toBe('Will retry');
    expect(cells[3]).toBe('ops@contoso.com');
    expect(cells[4]).toBe(SUBJECT);
    expect(cells[5]).toBe('1');
    // The true next try: the smarthost's backoff, said as such.
    expect(cells[6]).toMatch(/^(in \d+ s|in 1 min|now) \(.*\): localhost\[127\.0\.0\.1\]:\d+ is unreachable/);
    expect(cells[7]).toMatch(/ECONNREFUSED/);
    expect(cells[8]).toMatch(/^[0-9a-z]{16}$/);

    // Live: a message queued meanwhile shows up without touching the page (status events).
    await relay.relay.sendTest('live@contoso.com');
    const second = rows.filter({ hasText: 'live@contoso.com' });
    await shown(second);
    await shown(page.getByRole('tab', { name: /Queue/ }).getByText('2'));
    await screenshot(page, 'settings-queue');

    up = await startUpstream({ auth: { user: USER, pass: PASS }, port: upPort });
    await first.getByRole('checkbox').check();
    await q.getByRole('button', { name: 'Retry selected' }).click();
    await waitFor(() => up.messages.some((m) => m.to.includes('ops@contoso.com')), 10_000, 'the retried message upstream');
    // Once ops@ got through, the smarthost's backoff is over and live@ may go out by itself before the
    // button is pressed (the button is then disabled: nothing waits); otherwise Retry all now sends it.
    const retryAll = q.getByRole('button', { name: 'Retry all now' });
    await retryAll.click({ timeout: 3000 }).catch(async (e: unknown) => { if (await retryAll.isEnabled()) throw e; });
    await shown(q.getByText('Nothing is waiting.'));
    expect(up.messages.map((m) => m.to[0]).sort()).toEqual(['live@contoso.com', 'ops@contoso.com']);
    expect((await relay.relay.getStatus()).queued).toBe(0);
    // The Send test page followed its message to the end.
    await nav('Send test message');
    await shown(region('Send test message').getByText(/^Delivered at/));
    await nav('Queue');
  });

  it('Queue: view headers, and Delete asks first (Cancel keeps the message); pause and resume from the header', async () => {
    const q = region('Queue');
    await page.getByRole('button', { name: 'Pause delivery' }).click();
    await shown(page.getByTestId('relay-state').getByText('Paused'));
    await relay.relay.sendTest('hold@contoso.com');
    const card = q.locator('tbody tr').filter({ hasText: 'hold@contoso.com' });
    await shown(card);
    expect(await card.locator('td').nth(6).textContent()).toBe('on hold: delivery is paused');

    await card.getByRole('button', { name: 'Headers' }).click();
    const headers = page.getByRole('dialog', { name: 'Message headers' });
    await shown(headers.getByText(/Subject: SMTP Relay Tray test message/));
    expect(await headers.locator('pre').textContent()).toMatch(/^From: SMTP Relay Tray <jts@contoso\.com>\r?\nTo: <hold@contoso\.com>/);
    await page.keyboard.press('Escape');
    await headers.waitFor({ state: 'hidden' });

    await card.getByRole('checkbox').check();
    await q.getByRole('button', { name: 'Delete selected…' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Delete this message?' });
    await shown(confirm.getByText(/It will not be delivered/));
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'hidden' });
    expect((await relay.relay.listQueue()).total).toBe(1);

    await q.getByRole('button', { name: 'Delete selected…' }).click();
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
    await shown(q.getByText('Nothing is waiting.'));
    expect((await relay.relay.listQueue()).total).toBe(0);

    await page.getByRole('banner', { name: 'Relay status' }).getByRole('button', { name: 'Resume delivery' }).click();
    await shown(page.getByTestId('relay-state').getByText('Running'));
  });

  it('Log: newest first, filtered, copied and exported as shown', async () => {
    await nav('Log');
    const l = region('Log');
    const lines = l.getByRole('list', { name: 'Log lines, newest first' }).getByRole('listitem');
    await shown(lines);
    const times = await lines.locator('time').evaluateAll((ts) => ts.map((t) => Date.parse(t.getAttribute('datetime') ?? '')));
    expect(times.length).toBeGreaterThan(10);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(await lines.first().textContent()).toContain('delivery resumed by the user');

    await l.getByLabel('Search the log').fill('ops@contoso.com');
    await waitFor(async () => (await lines.allTextContents()).every((t) => t.includes('ops@contoso.com')), 5000, 'the filter');
    const filtered = await lines.allTextContents();
    expect(filtered.some((t) => /status=deferred .*ECONNREFUSED/.test(t))).toBe(true);
    expect(filtered.some((t) => t.includes('status=sent (250 OK: queued)'))).toBe(true);
    const problemsOnly = l.getByLabel('Only warnings and errors');
    await problemsOnly.focus();
    await page.keyboard.press('Space');
    await waitFor(async () => (await lines.count()) < filtered.length, 5000, 'the level filter');
    expect(await lines.allTextContents()).toEqual([expect.stringMatching(/warningid=\w+ to=<ops@contoso\.com> .*status=deferred \(connect ECONNREFUSED/)]);
    await page.keyboard.press('Space');
    await waitFor(async () => (await lines.count()) === filtered.length, 5000, 'all lines back');

    await l.getByRole('button', { name: 'Copy' }).click();
    await shown(l.getByText(`Copied ${filtered.length} lines.`));
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    const logged = await relay.relay.getLog({ contains: 'ops@contoso.com', limit: 1000 });
    expect(copied).toBe(logged.join('\n') + '\n');

    const download = page.waitForEvent('download');
    await l.getByRole('button', { name: 'Export…' }).click();
    const file = await (await download).path();
    expect(await fs.readFile(file, 'utf8')).toBe(copied);
    expect((await download).suggestedFilename()).toMatch(/^smtp-relay-log-\d{4}-\d\d-\d\d\.txt$/);

    await l.getByLabel('Search the log').fill('');
    await waitFor(async () => (await lines.count()) > filtered.length, 5000, 'the whole log');
    await screenshot(page, 'settings-log');
  });

  it('Listener: a port in use gets a plain message naming the likely culprit; a free port works', async () => {
    await nav('Listener');
    const s = region('Listener');
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const takenPort = (taken.address() as net.AddressInfo).port;
    try {
      await s.getByLabel('Port', { exact: true }).fill(String(takenPort));
      await s.getByRole('button', { name: 'Save', exact: true }).click();
      const alert = s.getByRole('alert').filter({ hasText: 'could not use the new settings' });
      await shown(alert);
      expect(await alert.textContent()).toContain(`cannot listen on 127.0.0.1:${takenPort}: the port is already in use by another program (often the IIS SMTP service`);
      expect(await alert.textContent()).toContain('Stop-Service SMTPSVC');
      await shown(page.getByText('Not accepting mail'));
      await alert.evaluate((e) => e.scrollIntoView({ block: 'end' }));
      await screenshot(page, 'settings-listener');
    } finally {
      await new Promise((r) => taken.close(r));
    }
    const port = await freePort();
    await s.getByLabel('Port', { exact: true }).fill(String(port));
    await s.getByRole('button', { name: 'Save', exact: true }).click();
    await shown(page.getByText(`Accepting mail on 127.0.0.1:${port}`));
    expect((await relay.relay.getStatus()).listening).toBe(`127.0.0.1:${port}`);
  });

  it('keyboard only: choose a page from the list, fill in a form and send with Enter', async () => {
    await page.getByRole('tab', { name: 'Listener' }).focus();
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Enter');
    const s = region('Send test message');
    await shown(s);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).labels?.[0]?.textContent)).toBe('Send to');
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('kbd@contoso.com');
    await page.keyboard.press('Enter');
    await shown(s.getByText(/^Delivered at/));
    await waitFor(() => up.messages.some((m) => m.to.includes('kbd@contoso.com')), 5000, 'the message sent by keyboard');
    // Arrow keys move along the page list; Enter opens the page.
    await page.getByRole('tab', { name: 'Send test message' }).focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await shown(region('Log'));
  });

  it('fits 800×600 and the smallest window (640×480) without sideways scrolling, on every page', async () => {
    for (const size of [{ width: 800, height: 600 }, { width: 640, height: 480 }, { width: 400, height: 300 }]) {
      await page.setViewportSize(size);
      for (const name of ['Smarthost', 'Send test message', 'Listener', 'Queue', 'Log']) {
        await nav(name);
        await shown(region(name));
        expect({ size, name, overflow: await horizontalOverflow(page) }).toEqual({ size, name, overflow: 0 });
      }
    }
    await page.setViewportSize({ width: 800, height: 600 });
  });

  it('at 200 % zoom on 800×600 (a 400×300 CSS viewport) the selected page\'s tab stays on screen and usable, on every page, also read down to its end', async () => {
    await page.setViewportSize({ width: 400, height: 300 });
    try {
      for (const name of ['Smarthost', 'Send test message', 'Listener', 'Queue', 'Log']) {
        await nav(name);
        await shown(region(name));
        const tab = page.getByRole('navigation', { name: 'Pages' }).getByRole('tab', { selected: true });
        expect(await tab.textContent()).toMatch(new RegExp(`^${name}`));
        // On screen without scrolling anything, and the topmost element at its centre (nothing covers it).
        const inSight = () => tab.evaluate((el) => {
          const r = el.getBoundingClientRect();
          // (a pixel's slack for subpixel layout: the last tab ends at 400.125)
          const onScreen = r.left >= -1 && r.right <= innerWidth + 1 && r.top >= -1 && r.bottom <= innerHeight + 1;
          return onScreen && el.contains(document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2));
        });
        await waitFor(inSight, 5000, `the ${name} tab on screen and uncovered`);
        // The page itself starts on screen too: its heading is visible below the navigation.
        const heading = await region(name).getByRole('heading', { level: 2 }).boundingBox();
        expect({ name, heading: heading && heading.y >= 0 && heading.y + heading.height <= 300 }).toEqual({ name, heading: true });
        // Read down to the page's end (the whole window scrolls at this size): the page row stays in sight.
        await page.evaluate(() => scrollTo(0, document.documentElement.scrollHeight));
        expect({ name, inSight: await inSight() }).toEqual({ name, inSight: true });
        await page.evaluate(() => scrollTo(0, 0));
      }
    } finally {
      await page.setViewportSize({ width: 800, height: 600 });
    }
  });

  it('ran without a script error or a Content-Security-Policy violation', () => {
    expect(problems).toEqual([]);
  });
});

/** A TCP proxy to `port` that holds every connection until release(): a smarthost slow to greet. */
async function slowGreetingProxy(port: number): Promise<{ port: number; release(): void; close(): Promise<void> }> {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('error', () => {});
    void released.then(() => {
      const upstream = net.connect(port, '127.0.0.1');
      sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    release,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}
