// @vitest-environment happy-dom
// The window explains a refused reply from the same table as the status and the CLI, with the same rule:
// under OAuth2 sign-in, the OAuth2 entries come first (a refused token reads like a refused password).
import { FluentProvider, webLightTheme } from '@fluentui/react-components';
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, expect, it } from 'vitest';
import { AdviceBar } from '../components/AdviceBar.js';

afterEach(cleanup);

const REFUSED = '535 5.7.3 Authentication unsuccessful';

function show(method?: string): void {
  render(<FluentProvider theme={webLightTheme}><AdviceBar title="The server refused the message" message={REFUSED} method={method} /></FluentProvider>);
}

it('under Microsoft OAuth2, a refused login says what the mailbox still needs for the app', () => {
  show('oauth2-microsoft');
  expect(screen.getByRole('alert').textContent).toMatch(/Add-MailboxPermission -Identity <mailbox>/);
});

it('with a password, the same reply gets the password advice, not the OAuth2 one', () => {
  show('password');
  expect(screen.getByRole('alert').textContent).not.toMatch(/Add-MailboxPermission/);
});
