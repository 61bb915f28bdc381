// The window's words, as an admin sees them in real Chromium (the built w.page, a real relay behind the
// HTTP bridge): a field's message only once the field is left, in field labels; the OAuth2 set-up steps
// before Save, next to the fields they explain, with the typed IDs and copy buttons; the test-connection
// verdict above its steps, with advice naming the configured host and port; the queue's statuses as
// words that survive high contrast (forced colors).
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Locator } from 'playwright-core';
import nodemailer from 'nodemailer';
import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../src/config/schema.js';
import { chromiumInstalled, screenshot } from './support/browser.js';
import { waitFor } from './support/relay.js';
import { windowSession } from './support/window-session.js';

const TENANT = 'contoso.onmicrosoft.com';
const CLIENT = '4a1b2c3d-0000-1111-2222-333344445555';

/** A loopback port nothing listens on: a smarthost that refuses connections. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe.skipIf(!chromiumInstalled)('the window\'s words (Chromium, built page, real relay)', () => {
  const w = windowSession({ clipboard: true });
  const open = (config: ConfigInput, hash: string) => w.open(config, hash);

  const region = (name: string): Locator => w.page.getByRole('region', { name, exact: true });
  const configWritten = () => fs.readFile(path.join(w.relay.dataDir, 'config.json'), 'utf8');

  it('a field\'s message shows once the field is left, not while typing, and in the fields\' labels', async () => {
    await open({}, 'settings');
    const s = region('Smarthost');
    const port = s.getByLabel('Port', { exact: true });
    await port.waitFor();
    expect(await s.locator('[aria-invalid="true"]').count()).toBe(0); // nothing red on the untouched form
    await port.fill('');
    await port.pressSequentially('70000');
    await w.page.waitForTimeout(800); // past the check's delay, still in the field
    expect(await port.getAttribute('aria-invalid')).not.toBe('true');
    expect(await s.getByText('must be at most 65535').count()).toBe(0);
    await port.press('Tab');
    await s.getByText('must be at most 65535').waitFor();
    expect(await port.getAttribute('aria-invalid')).toBe('true');
    // Another rule that names a second field does so by its label, never by its config key.
    await s.getByLabel('Sign-in method').selectOption('oauth2-microsoft');
    await s.getByRole('button', { name: 'Save', exact: true }).click();
    await s.getByText('is required when Sign-in method is Microsoft 365 (OAuth2)').first().waitFor();
    // Nothing in config.json's words, the OAuth2 set-up steps below the fields included.
    expect(await s.textContent()).not.toMatch(/auth\.|smarthost\.|tenantId|clientId|oauth2-microsoft|security starttls/);
  });

  it('Microsoft 365 OAuth2: the set-up steps show before Save, below their fields, with the typed IDs and copy buttons', async () => {
    await open({ smarthost: { host: 'smtp.office365.com', port: 587, security: 'starttls' } }, 'settings');
    const s = region('Smarthost');
    await s.getByLabel('Sign-in method').selectOption('oauth2-microsoft');
    await s.getByLabel('Mailbox', { exact: true }).fill('jts@contoso.com');
    await s.getByLabel('Directory (tenant) ID', { exact: true }).fill(TENANT);
    await s.getByLabel('Application (client) ID', { exact: true }).fill(CLIENT);
    const steps = s.getByRole('list').filter({ hasText: 'Exchange Online PowerShell' });
    const exchange = steps.getByRole('listitem').filter({ hasText: 'Exchange Online PowerShell' });
    await exchange.waitFor();
    const text = await exchange.textContent();
    expect(text).toContain(`Connect-ExchangeOnline -Organization ${TENANT}`);
    expect(text).toContain(`New-ServicePrincipal -AppId ${CLIENT}`);
    expect(text).toContain('Add-MailboxPermission -Identity jts@contoso.com');
    // Next to the fields they explain: after the client ID field, before the next section (Limits).
    const top = async (l: Locator) => (await l.boundingBox())!.y;
    expect(await top(steps)).toBeGreaterThan(await top(s.getByLabel('Application (client) ID', { exact: true })));
    expect(await top(steps)).toBeLessThan(await top(s.getByRole('heading', { name: 'Limits' })));
    expect(JSON.parse(await configWritten()).smarthost.auth?.method).not.toBe('oauth2-microsoft'); // all before Save
    await steps.scrollIntoViewIfNeeded();
    await screenshot(w.page, 'settings-oauth-steps');

    await exchange.getByRole('button', { name: /^Copy step/ }).click();
    await s.getByText(/^Step \d copied$/).waitFor();
    const copied = await w.page.evaluate(() => navigator.clipboard.readText());
    expect(copied.startsWith('Install-Module ExchangeOnlineManagement; ')).toBe(true);
    expect(copied).toContain(`-AppId ${CLIENT}`);
    expect(copied).not.toContain('(older versions');
    // A step that is clicks and one command copies the command alone.
    await steps.getByRole('listitem').filter({ hasText: 'New client secret' }).getByRole('button', { name: /^Copy step/ }).click();
    await waitFor(async () => (await w.page.evaluate(() => navigator.clipboard.readText())) === 'smtp-relay password set', 5000, 'the command copied');
  });

  it('test connection refused: the verdict comes first, its advice names the configured host and port, the steps below', async () => {
    const port = await closedPort();
    await open({ smarthost: { host: '127.0.0.1', port, security: 'none' } }, 'settings');
    const s = region('Smarthost');
    await s.getByRole('button', { name: 'Test connection', exact: true }).click();
    const verdict = s.getByRole('alert').filter({ hasText: 'Failed at' });
    await verdict.waitFor();
    const words = await verdict.textContent();
    expect(words).toContain(`Test-NetConnection 127.0.0.1 -Port ${port}`);
    expect(words).not.toContain('smtp.office365.com');
    expect(words).not.toMatch(/smarthost\.(host|port)/);
    const below = (await s.locator('[data-step="tcp"]').boundingBox())!.y;
    expect((await verdict.boundingBox())!.y).toBeLessThan(below);
  });

  it('high contrast: a queue row\'s status stays a word in a border, and the page list\'s count of mail not getting through keeps a border', async () => {
    await open({ delivery: { retrySchedule: '1h' }, smarthost: { host: '127.0.0.1', port: await closedPort(), security: 'none' } }, 'queue');
    await nodemailer.createTransport({ host: '127.0.0.1', port: w.relay.port, secure: false, ignoreTLS: true })
      .sendMail({ envelope: { from: 'app@jts.localdomain', to: ['dev@contoso.com'] }, raw: 'Subject: Build 1 broke\r\n\r\nbody\r\n' });
    const q = region('Queue');
    const row = q.locator('tbody tr[data-status="deferred"]').first();
    await row.waitFor(); // refused by the smarthost: will retry
    await w.page.emulateMedia({ forcedColors: 'active' });
    const status = await row.locator('.fui-Badge').evaluate((badge) => {
      const style = getComputedStyle(badge);
      return { text: badge.textContent, border: style.borderTopStyle, width: parseFloat(style.borderTopWidth) };
    });
    expect(status).toEqual({ text: 'Will retry', border: 'solid', width: 1 });
    // The page list's count: red for mail not getting through, and a border that says so without red.
    const count = w.page.getByRole('navigation', { name: 'Pages' }).getByLabel('1 in the queue, some not delivered');
    expect(await count.evaluate((el) => getComputedStyle(el).borderTopStyle + ' ' + getComputedStyle(el).borderTopWidth)).toBe('solid 2px');
  });
});
