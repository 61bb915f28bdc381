// Send test message: one message through the whole path (queue, smarthost), followed until it is
// delivered or the server's reply that stopped it.
import { Button, Field, Input, makeStyles, MessageBar, MessageBarBody, MessageBarTitle, Spinner, Text, tokens } from '@fluentui/react-components';
import { SendRegular } from '@fluentui/react-icons';
import { useEffect, useState } from 'react';
import { AdviceBar } from '../../components/AdviceBar.js';
import { Page } from '../../components/Page.js';
import { errorText, fromNow, localTime, STATE_LABELS } from '../../format.js';
import { useNow } from '../../hooks/use-now.js';
import { useRelayStatus } from '../../hooks/use-relay-status.js';
import { useTestMessage, type TestMessageState } from './use-test-message.js';

const useStyles = makeStyles({
  form: { display: 'flex', flexWrap: 'wrap', alignItems: 'flex-end', gap: tokens.spacingHorizontalM },
  to: { flex: '1 1 16rem', maxWidth: '28rem' },
  progress: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
});

export function SendTestPage({ active }: { active: boolean }) {
  const styles = useStyles();
  const [to, setTo] = useState('');
  const [sent, setSent] = useState<{ id: string; at: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  /** smarthost.auth.method, so that a refused reply gets the OAuth2 advice when that is the sign-in. */
  const [method, setMethod] = useState<string | undefined>(undefined);
  const state = useTestMessage(sent?.id ?? null);

  // The mailbox the relay signs in as is the likeliest address to test with (read when the page is shown:
  // it may have just been set on the Smarthost page).
  useEffect(() => {
    if (!active) return;
    window.relay.getConfig().then((c) => {
      setMethod(c?.smarthost?.auth?.method);
      const user = c?.smarthost?.auth?.username ?? '';
      if (user.includes('@')) setTo((t) => t || user);
    }, () => {});
  }, [active]);

  const send = async () => {
    setSending(true);
    setError(null);
    try {
      const { id } = await window.relay.sendTest(to.trim());
      setSent({ id, at: Date.now() });
    } catch (e) {
      setError(errorText(e));
    } finally {
      setSending(false);
    }
  };

  return (
    <Page title="Send test message" description="Sends a short message through the queue and the smarthost, exactly as your applications' mail goes, and follows it until it is delivered.">
      <form className={styles.form} noValidate onSubmit={(e) => { e.preventDefault(); void send(); }}>
        <Field className={styles.to} label="Send to">
          <Input type="email" value={to} placeholder="you@example.com" onChange={(_, d) => setTo(d.value)} />
        </Field>
        <Button type="submit" appearance="primary" icon={<SendRegular />} disabled={sending || !to.trim()}>Send test message</Button>
      </form>
      {error && <AdviceBar title="The test message was not sent" message={error} />}
      {sent && state && (
        <div className={styles.progress} aria-live="polite">
          <Text>Queued at {localTime(sent.at)} as {sent.id}.</Text>
          <Progress state={state} method={method} />
        </div>
      )}
    </Page>
  );
}

function Progress({ state, method }: { state: TestMessageState; method: string | undefined }) {
  const { status } = useRelayStatus();
  const now = useNow(5000);
  switch (state.phase) {
    case 'waiting': {
      const r = state.item?.recipients[0];
      const held = status && status.state !== 'running' && status.state !== 'stopped';
      return (
        <>
          {r?.lastReply && (
            <AdviceBar
              intent="warning"
              title={`Attempt ${r.attempts} did not get through${r.nextAttempt ? `; next try ${fromNow(r.nextAttempt, now)} (${localTime(r.nextAttempt, now)})` : ''}`}
              message={r.lastReply}
              method={method}
            />
          )}
          {held && <AdviceBar intent="warning" title={`${STATE_LABELS[status.state]}: the message waits in the queue`} message={status.lastError} advice={status.advice ?? undefined} />}
          <Spinner size="tiny" labelPosition="after" label={r?.attempts ? 'Waiting for the next try…' : 'Delivering…'} />
        </>
      );
    }
    case 'delivered':
      return (
        <MessageBar intent="success" layout="multiline" role="status">
          <MessageBarBody>
            <MessageBarTitle>Delivered{state.at ? ` at ${localTime(state.at)}` : ''}</MessageBarTitle>
            <div>The server {state.relay ? `${state.relay} ` : ''}accepted it: {state.reply}</div>
          </MessageBarBody>
        </MessageBar>
      );
    case 'failed':
      return <AdviceBar title="The server refused the message" message={state.item.recipients[0]?.lastReply ?? 'no reply recorded'} method={method} />;
    case 'gone':
      return <Text>The message left the queue without being delivered (it was deleted).</Text>;
    case 'error':
      return <AdviceBar title="The message could not be followed" message={state.message} />;
  }
}
