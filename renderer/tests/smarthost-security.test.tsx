// @vitest-environment happy-dom
// The Smarthost page says what "opportunistic" and "none" mean for the password, and Test connection
// shows a step that did not take place (TLS not offered, AUTH withheld) as not done, never as passed.
// window.relay is a real RelayService; the smarthost a scripted smtp-server on loopback.
import { FluentProvider, webLightTheme } from '@fluentui/react-components';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openRelay, type OpenRelay } from '../../test/support/open-relay.js';
import { startUpstream, type Upstream } from '../../test/support/upstream.js';
import { SmarthostPage } from '../pages/smarthost/SmarthostPage.js';
import { TestConnection } from '../pages/smarthost/TestConnection.js';

const USER = 'jts@contoso.com';
const PASSWORD = 'Renderer-Secret-1';
let open: OpenRelay;
let up: Upstream | null = null;

beforeEach(async () => {
  open = await openRelay();
  Object.defineProperty(window, 'relay', { value: open.relay, configurable: true });
});

afterEach(async () => {
  cleanup();
  await up?.stop();
  up = null;
  await open.close();
});

async function configure(security: 'opportunistic' | 'none', port = 2525) {
  await open.relay.setConfig({ smarthost: { host: '127.0.0.1', port, security, auth: { method: 'password', username: USER } } });
}

describe('Smarthost page: security warnings', () => {
  it('opportunistic with a password: the password is not sent at all without STARTTLS', async () => {
    await configure('opportunistic');
    render(<FluentProvider theme={webLightTheme}><SmarthostPage /></FluentProvider>);
    const warning = await screen.findByTestId('security-warning');
    expect(warning.textContent).toContain('Encryption only if the server offers it');
    expect(warning.textContent).toContain('the password is not sent at all: the relay then delivers without signing in if the server allows it, else the mail waits with the reason.');
  });

  it('no encryption with a password: the password crosses the network unencrypted', async () => {
    await configure('none');
    render(<FluentProvider theme={webLightTheme}><SmarthostPage /></FluentProvider>);
    const warning = await screen.findByTestId('security-warning');
    expect(warning.textContent).toContain('Mail and the password cross the network unencrypted: anyone on the path can read them.');
  });
});

describe('Test connection: steps that did not take place', () => {
  it('TLS not offered and AUTH withheld are shown as not done, with the reason; the test fails at sign-in', async () => {
    up = await startUpstream({ starttls: 'disabled', auth: { user: USER, pass: PASSWORD } });
    await configure('opportunistic', up.port);
    await open.relay.setPassword(PASSWORD);
    const user = userEvent.setup();
    render(<FluentProvider theme={webLightTheme}><TestConnection unsaved={false} saveFirst={async () => true} /></FluentProvider>);
    await user.click(screen.getByRole('button', { name: 'Test connection' }));
    await screen.findByText('Failed at: Sign-in (AUTH)', undefined, { timeout: 20_000 });
    const row = (step: string) => document.querySelector(`li[data-step="${step}"]`) as HTMLElement;
    await waitFor(() => expect(row('auth')).not.toBeNull());
    expect(row('starttls').dataset.skipped).toBe('true');
    expect(row('starttls').querySelector('[aria-label="not done"]')).not.toBeNull();
    expect(row('starttls').textContent).toContain('TLS not used: the server does not offer STARTTLS');
    expect(row('auth').dataset.skipped).toBe('true');
    expect(row('auth').textContent).toContain('AUTH not sent: the server did not offer STARTTLS, so the password was not sent');
    expect(document.body.textContent).not.toContain('Connection works');
    expect(up.commands.some((c) => /^AUTH/i.test(c))).toBe(false);
  });
});
