// @vitest-environment happy-dom
// Inline validation on the settings pages: each wrong value gets the config schema's own rule, worded
// with the window's labels, next to its field once the field is left (or Save pressed), and Save
// writes nothing while one is wrong. window.relay is a
// real RelayService (opened without the network), so the messages come from src/config/schema.ts.
import { FluentProvider, webLightTheme } from '@fluentui/react-components';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactElement } from 'react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configWritten, openRelay, type OpenRelay } from '../../test/support/open-relay.js';
import { ListenerPage } from '../pages/listener/ListenerPage.js';
import { SmarthostPage } from '../pages/smarthost/SmarthostPage.js';

let open: OpenRelay;

beforeEach(async () => {
  open = await openRelay();
  Object.defineProperty(window, 'relay', { value: open.relay, configurable: true });
});

afterEach(async () => {
  cleanup();
  await open.close();
});

async function show(page: ReactElement) {
  const user = userEvent.setup();
  render(<FluentProvider theme={webLightTheme}>{page}</FluentProvider>);
  await screen.findByRole('button', { name: 'Save' });
  return user;
}

/** Waits until `label`'s field shows `message`: its control marked invalid and described by the message. */
async function expectMessage(label: string, message: string): Promise<void> {
  await waitFor(() => {
    const control = screen.getByLabelText(label, { exact: true });
    expect(control.getAttribute('aria-invalid')).toBe('true');
    const ids = (control.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean);
    expect(ids.map((id) => document.getElementById(id)?.textContent ?? '').join(' ')).toContain(message);
  });
}

async function retype(user: ReturnType<typeof userEvent.setup>, label: string, text: string) {
  const input = screen.getByLabelText(label, { exact: true });
  await user.clear(input);
  if (text) await user.type(input, text);
  await user.tab();
}

describe('Smarthost page: the schema\'s messages, inline', () => {
  it('a port out of range, and one that is not a number', async () => {
    const user = await show(<SmarthostPage />);
    await retype(user, 'Port', '70000');
    await expectMessage('Port', 'must be at most 65535');
    await retype(user, 'Port', 'abc');
    await expectMessage('Port', 'must be a number, not "abc"');
    await retype(user, 'Port', '587');
    await waitFor(() => expect(screen.getByLabelText('Port', { exact: true }).getAttribute('aria-invalid')).not.toBe('true'));
  });

  it('nothing is red on an untouched form or while a field is being typed in; the message shows once it is left', async () => {
    const user = await show(<SmarthostPage />);
    expect(document.querySelectorAll('[aria-invalid="true"]')).toHaveLength(0);
    const port = screen.getByLabelText('Port', { exact: true });
    await user.clear(port);
    await user.type(port, '70000');
    await new Promise((r) => setTimeout(r, 600)); // past the check's delay
    expect(port.getAttribute('aria-invalid')).not.toBe('true');
    await user.tab();
    await expectMessage('Port', 'must be at most 65535');
  });

  it('implicit TLS on port 587 is flagged on Security', async () => {
    const user = await show(<SmarthostPage />);
    await user.selectOptions(screen.getByLabelText('Security'), 'tls');
    await user.tab();
    await expectMessage('Security', '"tls" (implicit TLS) is for port 465; port 587 expects "starttls"');
    await retype(user, 'Port', '465');
    await waitFor(() => expect(screen.getByLabelText('Security').getAttribute('aria-invalid')).not.toBe('true'));
  });

  it('a password sign-in needs a username; Save writes nothing until it is there', async () => {
    const user = await show(<SmarthostPage />);
    await retype(user, 'Host', 'smtp.office365.com');
    await user.selectOptions(screen.getByLabelText('Sign-in method'), 'password');
    await user.tab();
    await new Promise((r) => setTimeout(r, 600)); // past the check's delay: the untouched Username stays quiet
    expect(screen.getByLabelText('Username', { exact: true }).getAttribute('aria-invalid')).not.toBe('true');

    await user.click(screen.getByRole('button', { name: 'Save' }));
    await expectMessage('Username', 'Username is required when Sign-in method is Username and password');
    await waitFor(() => expect(screen.getByRole('button', { name: 'Save' }).hasAttribute('disabled')).toBe(false));
    expect(await configWritten(open.dataDir)).toBe(false);
    expect((await open.relay.getConfig()).smarthost.host).toBe('');

    await retype(user, 'Username', 'jts@contoso.com');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText('Saved');
    expect((await open.relay.getConfig()).smarthost).toMatchObject({ host: 'smtp.office365.com', auth: { method: 'password', username: 'jts@contoso.com' } });
  });

  it('Microsoft 365 OAuth2: the tenant and a client ID that is a GUID', async () => {
    const user = await show(<SmarthostPage />);
    await retype(user, 'Host', 'smtp.office365.com');
    await user.selectOptions(screen.getByLabelText('Sign-in method'), 'oauth2-microsoft');
    await retype(user, 'Mailbox', 'jts@contoso.com');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await expectMessage('Directory (tenant) ID', 'is required when Sign-in method is Microsoft 365 (OAuth2)');
    expect(document.body.textContent).not.toMatch(/auth\.method|smarthost\./);
    await retype(user, 'Application (client) ID', 'my-app');
    await expectMessage('Application (client) ID', 'must be the Application (client) ID, a GUID');
  });

  it('a host name with a space in it', async () => {
    const user = await show(<SmarthostPage />);
    await retype(user, 'Host', 'smtp office365 com');
    await expectMessage('Host', 'may contain only letters, digits, dots, hyphens and colons');
  });
});

describe('Listener page: the schema\'s messages, inline', () => {
  it('a bind address that is not an IP address', async () => {
    const user = await show(<ListenerPage />);
    await retype(user, 'Bind address', 'localhost');
    await expectMessage('Bind address', 'must be an IP address such as 127.0.0.1, ::1 or 0.0.0.0');
  });

  it('an allowed-clients line that is not a range, and an empty list', async () => {
    const user = await show(<ListenerPage />);
    await retype(user, 'Allowed clients', '127.0.0.0/8\n10.0.0.0/33');
    await expectMessage('Allowed clients', '"10.0.0.0/33" is not an address range; write it like 127.0.0.0/8, 192.168.1.10 or ::1/128');
    await retype(user, 'Allowed clients', '');
    await expectMessage('Allowed clients', 'needs at least one range, e.g. 127.0.0.0/8');
  });

  it('the whole Internet allowed while listening on the network is refused as an open relay; Save writes nothing', async () => {
    const user = await show(<ListenerPage />);
    await retype(user, 'Bind address', '0.0.0.0');
    await retype(user, 'Allowed clients', '0.0.0.0/0');
    await expectMessage('Allowed clients', 'would let computers anywhere on the Internet send mail through this relay (an open relay)');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Save' }).hasAttribute('disabled')).toBe(false));
    expect(await configWritten(open.dataDir)).toBe(false);
  });

  it('a size limit below the schema\'s minimum of 1024 bytes, typed in MB', async () => {
    const user = await show(<ListenerPage />);
    await retype(user, 'Largest message (MB)', '0.0001');
    await expectMessage('Largest message (MB)', 'must be at least 1024');
  });
});
