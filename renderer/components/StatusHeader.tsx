// The window's top line: is the relay working, how much mail waits, the last delivery, and
// pause/resume. Problems that stop delivery (sign-in failed, not set up) show with their fix.
import { Button, makeStyles, Text, tokens } from '@fluentui/react-components';
import { ArrowClockwiseRegular, PauseRegular, PlayRegular } from '@fluentui/react-icons';
import { useState } from 'react';
import type { RelayState, RelayStatus } from '../../src/api/contract.js';
import { ago, duration, errorText, plural, STATE_LABELS } from '../format.js';
import { useNow } from '../hooks/use-now.js';
import { useRelayStatus } from '../hooks/use-relay-status.js';
import { AdviceBar } from './AdviceBar.js';

const STATE_COLOR: Record<RelayState, string> = {
  running: tokens.colorPaletteGreenBackground3,
  paused: tokens.colorPaletteMarigoldBackground3,
  'auth-failed': tokens.colorPaletteRedBackground3,
  unconfigured: tokens.colorPaletteRedBackground3,
  stopped: tokens.colorNeutralForeground3,
};

const useStyles = makeStyles({
  header: {
    display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, padding: `${tokens.spacingVerticalM} ${tokens.spacingHorizontalL}`,
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`, background: tokens.colorNeutralBackground2,
  },
  top: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', columnGap: tokens.spacingHorizontalM, rowGap: tokens.spacingVerticalXS },
  title: { margin: 0, fontSize: tokens.fontSizeBase400, fontWeight: tokens.fontWeightSemibold },
  state: { display: 'inline-flex', alignItems: 'center', gap: tokens.spacingHorizontalS },
  dot: { width: '12px', height: '12px', borderRadius: '50%', flex: 'none' },
  spacer: { flex: '1 1 0' },
  facts: { display: 'flex', flexWrap: 'wrap', columnGap: tokens.spacingHorizontalL, rowGap: tokens.spacingVerticalXXS, color: tokens.colorNeutralForeground2 },
});

/** `onSetUp` opens the Smarthost page, offered while the relay is not set up. */
export function StatusHeader({ onSetUp }: { onSetUp(): void }) {
  const styles = useStyles();
  const { status, error } = useRelayStatus();
  const now = useNow(15_000);
  return (
    <header className={styles.header} aria-label="Relay status">
      <div className={styles.top}>
        <h1 className={styles.title}>SMTP Relay</h1>
        {status && (
          <span className={styles.state} data-testid="relay-state">
            <span className={styles.dot} style={{ background: STATE_COLOR[status.state] }} aria-hidden />
            <Text weight="semibold">{STATE_LABELS[status.state]}</Text>
          </span>
        )}
        {status && <Text>{status.listening ? `Accepting mail on ${status.listening}` : 'Not accepting mail'}</Text>}
        <span className={styles.spacer} />
        {status && <DeliveryButton status={status} />}
      </div>
      {status && <Facts status={status} now={now} />}
      {status && (status.state === 'auth-failed' || status.state === 'unconfigured') && (
        <AdviceBar
          title={STATE_LABELS[status.state]}
          message={status.lastError}
          advice={status.advice ?? undefined}
          actions={status.state === 'unconfigured' && <div><Button size="small" onClick={onSetUp}>Set up the smarthost</Button></div>}
        />
      )}
      {error && !status && <AdviceBar title="The relay does not answer" message={error} />}
    </header>
  );
}

function Facts({ status, now }: { status: RelayStatus; now: number }) {
  const styles = useStyles();
  const last = status.lastDelivery;
  return (
    <div className={styles.facts} data-testid="relay-counts">
      <Text>{plural(status.queued, 'message')} waiting{status.deferred ? ` (${status.deferred} after a failed attempt)` : ''}</Text>
      {status.oldestQueuedSeconds !== null && status.queued > 0 && <Text>oldest {duration(status.oldestQueuedSeconds * 1000)}</Text>}
      <Text>{status.failed} failed</Text>
      <Text>{last ? `Last delivery: ${last.status === 'sent' ? 'delivered to' : `${last.status} for`} ${last.to} ${ago(last.at, now)}` : 'No delivery yet'}</Text>
    </div>
  );
}

/** Pause while running, resume while paused, retry after a failed sign-in (retryAll lifts that pause). */
function DeliveryButton({ status }: { status: RelayStatus }) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const action = {
    running: { label: 'Pause delivery', icon: <PauseRegular />, run: () => window.relay.pause() },
    paused: { label: 'Resume delivery', icon: <PlayRegular />, run: () => window.relay.resume() },
    'auth-failed': { label: 'Retry now', icon: <ArrowClockwiseRegular />, run: () => window.relay.retryAll() },
  }[status.state as 'running' | 'paused' | 'auth-failed'];
  if (!action) return null;
  const run = async () => {
    setBusy(true);
    setProblem(null);
    try {
      await action.run();
    } catch (e) {
      setProblem(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      {problem && <Text role="alert">{problem}</Text>}
      <Button icon={action.icon} disabled={busy} onClick={() => void run()}>{action.label}</Button>
    </>
  );
}
