// Shown when this window may only look: the relay runs as a service and this user is not an administrator
// (or not elevated). The relay refuses every change; the banner says so before the user tries, and offers
// to open the app again as administrator (Windows asks through UAC).
import { Button, MessageBar, MessageBarActions, MessageBarBody, MessageBarTitle } from '@fluentui/react-components';
import { useState } from 'react';
import { errorText } from '../format.js';
import { useRelayStatus } from '../hooks/use-relay-status.js';

export function ReadOnlyBanner() {
  const { status } = useRelayStatus();
  const [problem, setProblem] = useState<string | null>(null);
  if (status?.access !== 'read-only') return null;
  return (
    <MessageBar intent="warning" layout="multiline" role="status">
      <MessageBarBody>
        <MessageBarTitle>Read-only</MessageBarTitle>
        The relay runs as a service under its own account. You can see its state and how much mail waits; changing
        settings, reading messages and the log, and managing the queue need an administrator.
        {problem && <div role="alert">{problem}</div>}
      </MessageBarBody>
      <MessageBarActions>
        <Button onClick={() => void window.relay.reopenAsAdministrator().catch((e: unknown) => setProblem(errorText(e)))}>
          Reopen as administrator
        </Button>
      </MessageBarActions>
    </MessageBar>
  );
}
