// @vitest-environment happy-dom
// The settings window of a user who may only look (the relay is a service, the user not an administrator):
// window.relay is the tray app's RelayLink in read-only mode, reading a real relay's public status. The page
// says it is read-only before anything is tried, and offers to reopen the app as administrator.
import { FluentProvider, webLightTheme } from '@fluentui/react-components';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, expect, it } from 'vitest';
import { ControlAccessError } from '../../src/control/key.js';
import { RelayLink } from '../../src/desktop/relay-link.js';
import { startRelay, type TestRelay } from '../../test/support/relay.js';
import { serveControl } from '../../src/control/server.js';
import { ReadOnlyBanner } from '../components/ReadOnlyBanner.js';
import { RelayStatusProvider } from '../hooks/use-relay-status.js';

let relay: TestRelay | null = null;
afterEach(async () => {
  cleanup();
  await relay?.stop(500);
});

it('says the window is read-only and offers to reopen as administrator', async () => {
  relay = await startRelay({});
  const control = await serveControl(relay.relay, relay.dataDir); // publishes control/status.json
  const reopened: string[] = [];
  const link = new RelayLink({
    serviceDataDir: relay.dataDir, userDataDir: '/nonexistent', embed: () => Promise.reject(new Error('must not embed')),
    // What connectControl throws for a user who cannot read control.key.
    connect: (dir) => Promise.reject(new ControlAccessError(dir)),
    reopenAsAdministrator: async () => { reopened.push('elevate'); },
  });
  expect((await link.start()).kind).toBe('read-only');
  Object.defineProperty(window, 'relay', { value: link.api, configurable: true });
  render(<FluentProvider theme={webLightTheme}><RelayStatusProvider><ReadOnlyBanner /></RelayStatusProvider></FluentProvider>);
  await screen.findByText('Read-only');
  expect(screen.getByText(/need an administrator/)).toBeTruthy();
  await userEvent.setup().click(screen.getByRole('button', { name: 'Reopen as administrator' }));
  await waitFor(() => expect(reopened).toEqual(['elevate']));
  await link.stop();
  await control.close();
});
