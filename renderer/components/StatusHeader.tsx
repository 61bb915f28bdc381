// The window's top line, from the relay's health model (src/health/model.ts): one state with a shape
// and a word (both survive high contrast, where colours do not), the cause in words, when the relay
// tries again, and the one button that fixes it. Counts and the last delivery below.
import { Button, makeStyles, Text, tokens } from '@fluentui/react-components';
import { useState } from 'react';
import type { Health, HealthAction, RelayStatus } from '../../src/api/contract.js';
import { ago, duration, errorText, fromNow, localTime, plural } from '../format.js';
import type { PageId } from '../hooks/use-page.js';
import { useNow } from '../hooks/use-now.js';
import { useRelayStatus } from '../hooks/use-relay-status.js';
import { AdviceBar } from './AdviceBar.js';

/** A shape per severity, so the state reads without colour: ✓ fine, ! warning, ✕ error, ■ stopped. */
const MARK: Record<Health['severity'], { glyph: string; color: string }> = {
  ok: { glyph: '✓', color: tokens.colorPaletteGreenForeground1 },
  warning: { glyph: '!', color: tokens.colorPaletteMarigoldForeground1 },
  error: { glyph: '✕', color: tokens.colorPaletteRedForeground1 },
  stopped: { glyph: '■', color: tokens.colorNeutralForeground3 },
};

const useStyles = makeStyles({
  header: {
    display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, padding: `${tokens.spacingVerticalM} ${tokens.spacingHorizontalL}`,
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`, background: tokens.colorNeutralBackground2,
  },
  top: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', columnGap: tokens.spacingHorizontalM, rowGap: tokens.spacingVerticalXS },
  title: { margin: 0, fontSize: tokens.fontSizeBase400, fontWeight: tokens.fontWeightSemibold },
  state: { display: 'inline-flex', alignItems: 'center', gap: tokens.spacingHorizontalS },
  // A bordered glyph, not a coloured dot: in forced colours the border and the glyph stay, in the system's text colour.
  mark: {
    display: 'inline-flex', alignItems: 'center', justifyContent: 'center', width: '18px', height: '18px', flex: 'none',
    borderRadius: '50%', border: '2px solid currentColor', fontSize: '11px', fontWeight: tokens.fontWeightBold, lineHeight: 1,
  },
  cause: { overflowWrap: 'anywhere' },
  spacer: { flex: '1 1 0' },
  facts: { display: 'flex', flexWrap: 'wrap', columnGap: tokens.spacingHorizontalL, rowGap: tokens.spacingVerticalXXS, color: tokens.colorNeutralForeground2 },
});

/** `go` opens a page of the window (the fixing action may be "Set up the smarthost" or "Show the queue"). */
export function StatusHeader({ go }: { go(page: PageId): void }) {
  const styles = useStyles();
  const { status, error } = useRelayStatus();
  const now = useNow(5_000);
  const h = status?.health;
  return (
    <header className={styles.header} aria-label="Relay status">
      <div className={styles.top}>
        <h1 className={styles.title}>SMTP Relay</h1>
        {h && (
          <span className={styles.state} data-testid="relay-state" data-state={h.state}>
            <span className={styles.mark} style={{ color: MARK[h.severity].color }} aria-hidden>{MARK[h.severity].glyph}</span>
            <Text weight="semibold">{h.title}</Text>
          </span>
        )}
        {status && <Text>{status.listening ? `Accepting mail on ${status.listening}` : 'Not accepting mail'}</Text>}
        <span className={styles.spacer} />
        {status && <PauseButton status={status} />}
      </div>
      {h && (h.severity !== 'ok' || h.state === 'paused') && <HealthBar health={h} status={status} now={now} go={go} />}
      {status && <Facts status={status} now={now} />}
      {error && !status && <AdviceBar title="The relay does not answer" message={error} />}
    </header>
  );
}

/** The cause, the next try and the one fixing action, as a message bar under the state. */
function HealthBar({ health, status, now, go }: { health: Health; status: RelayStatus; now: number; go(page: PageId): void }) {
  const styles = useStyles();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const run = async (action: HealthAction) => {
    setBusy(true);
    setProblem(null);
    try {
      await fix(action, go);
    } catch (e) {
      setProblem(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const next = health.nextTry === null ? null : `Next try ${fromNow(health.nextTry, now)} (${localTime(health.nextTry, now)}).`;
  return (
    <AdviceBar
      title={health.title}
      intent={health.severity === 'error' ? 'error' : 'warning'}
      advice={status.advice}
      message={null}
      detail={<Text className={styles.cause} data-testid="health-cause">{health.cause}{next ? ` ${next}` : ''}</Text>}
      actions={(
        <>
          {problem && <Text role="alert">{problem}</Text>}
          {health.action && (
            <div><Button size="small" appearance="primary" disabled={busy} onClick={() => void run(health.action!.id)}>{health.action.label}</Button></div>
          )}
        </>
      )}
    />
  );
}

async function fix(action: HealthAction, go: (page: PageId) => void): Promise<void> {
  switch (action) {
    case 'set-up': case 'sign-in': return go('smarthost');
    case 'show-queue': case 'free-disk': return go('queue');
    case 'retry': await window.relay.retryAll(); return;
    case 'resume': return window.relay.resume();
    case 'start': throw new Error('Start the relay from the tray menu (Start relay) or run `smtp-relay run`.');
  }
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

/** Pause while delivering; resuming is the health bar's action while paused. */
function PauseButton({ status }: { status: RelayStatus }) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  if (status.state !== 'running' || status.health.state === 'not-set-up') return null;
  const run = async () => {
    setBusy(true);
    setProblem(null);
    try {
      await window.relay.pause();
    } catch (e) {
      setProblem(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      {problem && <Text role="alert">{problem}</Text>}
      <Button disabled={busy} onClick={() => void run()}>Pause delivery</Button>
    </>
  );
}
