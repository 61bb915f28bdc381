// Placeholder settings window (issue 6 replaces it with the real React UI): shows the relay's status
// through window.relay, which is all a page of this app may talk to.
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import type { RelayStatus } from '../src/api/contract.js';

function StatusView() {
  const [status, setStatus] = useState<RelayStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    window.relay.getStatus().then(
      (s) => { if (live) setStatus(s); },
      (e: Error) => { if (live) setError(e.message); },
    );
    const unsubscribe = window.relay.onStatus(setStatus);
    return () => {
      live = false;
      unsubscribe();
    };
  }, []);
  if (error) return <p role="alert">{error}</p>;
  if (!status) return <p>Loading…</p>;
  return (
    <dl>
      <dt>State</dt><dd data-testid="state">{status.state}</dd>
      <dt>Queued</dt><dd data-testid="queued">{status.queued}</dd>
      <dt>Deferred</dt><dd>{status.deferred}</dd>
      <dt>Failed</dt><dd>{status.failed}</dd>
      <dt>Listening</dt><dd>{status.listening ?? '—'}</dd>
      <dt>Last error</dt><dd>{status.lastError ?? '—'}</dd>
    </dl>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <h1>SMTP Relay Tray</h1>
    <StatusView />
  </StrictMode>,
);
