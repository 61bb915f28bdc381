// Test connection: the steps to the smarthost (DNS, TCP, TLS, greeting, EHLO, STARTTLS with the
// certificate, AUTH) as each one ends, with the server's exact replies, then the outcome and, on a
// failure, the advice. Sends no mail.
import { Button, makeStyles, MessageBar, MessageBarBody, MessageBarTitle, Spinner, Text, tokens } from '@fluentui/react-components';
import { CheckmarkCircleFilled, DismissCircleFilled, PlugConnectedRegular, WarningFilled } from '@fluentui/react-icons';
import { useState } from 'react';
import type { ConnectionStep, StepName, TestConnectionResult } from '../../../src/api/contract.js';
import { AdviceBar } from '../../components/AdviceBar.js';
import { Section } from '../../components/Page.js';
import { errorText } from '../../format.js';

const STEP_LABELS: Record<StepName, string> = {
  dns: 'Name lookup (DNS)',
  tcp: 'Connection (TCP)',
  tls: 'TLS handshake and certificate',
  banner: 'Server greeting',
  ehlo: 'EHLO: what the server offers',
  starttls: 'STARTTLS and certificate',
  auth: 'Sign-in (AUTH)',
};

const useStyles = makeStyles({
  bar: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: tokens.spacingHorizontalM },
  steps: { listStyle: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  step: { display: 'grid', gridTemplateColumns: 'auto minmax(0, 1fr)', columnGap: tokens.spacingHorizontalS, rowGap: tokens.spacingVerticalXXS },
  ok: { color: tokens.colorPaletteGreenForeground1, fontSize: '20px' },
  failed: { color: tokens.colorPaletteRedForeground1, fontSize: '20px' },
  skipped: { color: tokens.colorPaletteMarigoldForeground1, fontSize: '20px' },
  text: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXXS, minWidth: 0 },
  detail: { color: tokens.colorNeutralForeground2, overflowWrap: 'anywhere' },
  reply: {
    margin: 0, padding: `${tokens.spacingVerticalXS} ${tokens.spacingHorizontalS}`, fontFamily: tokens.fontFamilyMonospace,
    fontSize: tokens.fontSizeBase200, lineHeight: tokens.lineHeightBase200, background: tokens.colorNeutralBackground3, borderRadius: tokens.borderRadiusMedium,
    whiteSpace: 'pre-wrap', overflowWrap: 'anywhere', maxHeight: '10rem', overflowY: 'auto',
  },
});

interface TestConnectionProps {
  /** Unsaved changes are saved first (the relay tests the saved settings); false when they were refused. */
  unsaved: boolean;
  saveFirst(): Promise<boolean>;
}

export function TestConnection({ unsaved, saveFirst }: TestConnectionProps) {
  const styles = useStyles();
  const [running, setRunning] = useState(false);
  const [steps, setSteps] = useState<ConnectionStep[]>([]);
  const [result, setResult] = useState<TestConnectionResult | null>(null);
  const [error, setError] = useState<string | null>(null);

  const run = async () => {
    if (unsaved && !(await saveFirst())) return;
    setRunning(true);
    setSteps([]);
    setResult(null);
    setError(null);
    const unsubscribe = window.relay.onTestStep((step) => setSteps((s) => [...s, step]));
    try {
      const r = await window.relay.testConnection();
      setResult(r);
      setSteps(r.steps); // the result's list is complete even where live events are not available
    } catch (e) {
      setError(errorText(e));
    } finally {
      unsubscribe();
      setRunning(false);
    }
  };

  return (
    <Section title="Test connection">
      <div className={styles.bar}>
        <Button icon={<PlugConnectedRegular />} disabled={running} onClick={() => void run()}>
          {unsaved ? 'Save and test connection' : 'Test connection'}
        </Button>
        <Text size={200}>Connects, starts TLS and signs in, step by step, and says which of these did not happen. Sends no mail.</Text>
      </div>
      {result && <Text>Tested {result.target}</Text>}
      {/* The verdict first, the steps that led to it below. */}
      {result?.ok && (
        <MessageBar intent={result.warnings?.length ? 'warning' : 'success'} role="status">
          <MessageBarBody>
            <MessageBarTitle>{result.warnings?.length ? 'Connection works, but it is not safe' : 'Connection works'}</MessageBarTitle>
            {result.message}
          </MessageBarBody>
        </MessageBar>
      )}
      {result && !result.ok && (
        <AdviceBar
          title={`Failed at: ${result.failedStep ? STEP_LABELS[result.failedStep] : 'the start'}`}
          message={result.message}
          advice={result.advice ?? null}
        />
      )}
      {(running || steps.length > 0) && (
        <ol className={styles.steps} aria-label="Connection test steps" aria-live="polite">
          {steps.map((s, i) => <StepRow key={i} step={s} again={s.step === 'ehlo' && steps.slice(0, i).some((p) => p.step === 'ehlo')} />)}
          {running && <li><Spinner size="extra-tiny" labelPosition="after" label="Next step…" /></li>}
        </ol>
      )}
      {error && <AdviceBar title="The test could not run" message={error} />}
    </Section>
  );
}

function StepRow({ step, again }: { step: ConnectionStep; again: boolean }) {
  const styles = useStyles();
  const label = again ? 'EHLO again, over TLS' : STEP_LABELS[step.step];
  return (
    <li className={styles.step} data-step={step.step} data-ok={step.ok} data-skipped={step.skipped ?? false}>
      {step.skipped
        ? <WarningFilled className={styles.skipped} aria-label="not done" />
        : step.ok
          ? <CheckmarkCircleFilled className={styles.ok} aria-label="passed" />
          : <DismissCircleFilled className={styles.failed} aria-label="failed" />}
      <div className={styles.text}>
        <Text weight="semibold">{label} <Text size={200} weight="regular">({step.ms} ms)</Text></Text>
        <Text size={200} className={styles.detail}>{step.detail}</Text>
        {step.reply && <pre className={styles.reply} aria-label="Server reply">{step.reply}</pre>}
      </div>
    </li>
  );
}
