// @vitest-environment happy-dom
// The OAuth2 set-up steps show next to the OAuth fields while they are being filled in, before Save,
// with the tenant and client ID as typed, and each has a copy button that copies the command itself.
// window.relay is a real RelayService; the steps come from src/oauth/checklist.ts.
import { FluentProvider, webLightTheme } from '@fluentui/react-components';
import { cleanup, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configWritten, openRelay, type OpenRelay } from '../../test/support/open-relay.js';
import { SmarthostPage } from '../pages/smarthost/SmarthostPage.js';

const TENANT = 'contoso.onmicrosoft.com';
const CLIENT = '4a1b2c3d-0000-1111-2222-333344445555';
let open: OpenRelay;

beforeEach(async () => {
  open = await openRelay();
  Object.defineProperty(window, 'relay', { value: open.relay, configurable: true });
});

afterEach(async () => {
  cleanup();
  await open.close();
});

describe('Smarthost page: OAuth2 set-up steps before Save', () => {
  it('Microsoft 365: the steps name the typed tenant, client ID and mailbox, and copy the PowerShell without the notes', async () => {
    const user = userEvent.setup();
    render(<FluentProvider theme={webLightTheme}><SmarthostPage /></FluentProvider>);
    await screen.findByRole('button', { name: 'Save' });
    await user.selectOptions(screen.getByLabelText('Sign-in method'), 'oauth2-microsoft');
    await user.type(screen.getByLabelText('Mailbox', { exact: true }), 'jts@contoso.com');
    await user.type(screen.getByLabelText('Directory (tenant) ID', { exact: true }), TENANT);
    await user.type(screen.getByLabelText('Application (client) ID', { exact: true }), CLIENT);

    const steps = await screen.findByRole('list');
    const exchange = within(steps).getAllByRole('listitem').find((li) => li.textContent?.includes('Exchange Online PowerShell'));
    expect(exchange?.textContent).toContain(`Connect-ExchangeOnline -Organization ${TENANT}`);
    expect(exchange?.textContent).toContain(`New-ServicePrincipal -AppId ${CLIENT}`);
    expect(exchange?.textContent).toContain('Add-MailboxPermission -Identity jts@contoso.com');
    expect(await configWritten(open.dataDir)).toBe(false); // all of this before Save

    await user.click(within(exchange as HTMLElement).getByRole('button', { name: /^Copy step/ }));
    await screen.findByText(/Step \d copied/);
    const copied = await navigator.clipboard.readText();
    expect(copied.startsWith('Install-Module ExchangeOnlineManagement; ')).toBe(true);
    expect(copied).toContain(`-AppId ${CLIENT}`);
    expect(copied).not.toContain('(older versions');

    const secret = within(steps).getAllByRole('listitem').find((li) => li.textContent?.includes('New client secret'));
    await user.click(within(secret as HTMLElement).getByRole('button', { name: /^Copy step/ }));
    await waitFor(async () => expect(await navigator.clipboard.readText()).toBe('smtp-relay password set'));
  });
});
