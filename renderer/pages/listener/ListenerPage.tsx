// Listener: where applications hand their mail to the relay, who may, and how big a message may be.
import { Field, Input, makeStyles, MessageBar, MessageBarBody, Textarea, tokens } from '@fluentui/react-components';
import type { Config } from '../../../src/config/schema.js';
import { AdviceBar } from '../../components/AdviceBar.js';
import { FieldRow, Page, Section } from '../../components/Page.js';
import { SaveBar } from '../../components/SaveBar.js';
import { numberOrText } from '../../format.js';
import { useConfigSection, validation } from '../../hooks/use-config-section.js';
import { useRelayStatus } from '../../hooks/use-relay-status.js';

type Listen = Config['listen'];

interface ListenerForm {
  host: string;
  port: string;
  /** One address or range per line. */
  allowedClients: string;
  maxMessageMB: string;
}

const MB = 1024 * 1024;

function toForm(l: Listen): ListenerForm {
  return { host: l.host, port: String(l.port), allowedClients: l.allowedClients.join('\n'), maxMessageMB: String(Math.round((l.maxMessageBytes / MB) * 100) / 100) };
}

function toInput(f: ListenerForm, saved: Listen): unknown {
  const mb = numberOrText(f.maxMessageMB);
  return {
    ...saved,
    host: f.host.trim(),
    port: numberOrText(f.port),
    allowedClients: f.allowedClients.split(/[\n,;]/).map((s) => s.trim()).filter(Boolean),
    maxMessageBytes: typeof mb === 'number' ? Math.round(mb * MB) : mb,
  };
}

const LOOPBACK = /^(127\.|::1$)/;

const useStyles = makeStyles({ fields: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM } });

export function ListenerPage() {
  const styles = useStyles();
  const section = useConfigSection('listen', toForm, toInput);
  const { status } = useRelayStatus();
  const { form, issues, change } = section;
  const bytes = form ? numberOrText(form.maxMessageMB) : 0;
  return (
    <Page title="Listener" onBlur={section.onBlur} description="Where applications on this server (or your network) hand their mail to the relay.">
      {section.loadError && <AdviceBar title="The settings could not be read" message={section.loadError} />}
      {status && status.state !== 'stopped' && !status.listening && !section.saveError && (
        <AdviceBar title="The relay is not accepting mail" message="The listener is not running: change the port or address and save to try again." intent="warning" />
      )}
      {form && (
        <>
          <Section title="Address">
            <div className={styles.fields}>
              <FieldRow>
                <Field
                  label="Bind address"
                  hint="127.0.0.1: only programs on this computer. 0.0.0.0: other computers too (only those allowed below)."
                  {...validation(issues, 'host')}
                >
                  <Input value={form.host} onChange={(_, d) => change({ host: d.value })} />
                </Field>
                <Field label="Port" hint="25 is the standard." {...validation(issues, 'port')}>
                  <Input value={form.port} inputMode="numeric" onChange={(_, d) => change({ port: d.value })} />
                </Field>
              </FieldRow>
              {!LOOPBACK.test(form.host.trim()) && (
                <MessageBar intent="warning" layout="multiline">
                  <MessageBarBody>Other computers can reach the relay at this address. Only those in the allowed list below may send; allow only your own networks.</MessageBarBody>
                </MessageBar>
              )}
            </div>
          </Section>
          <Section title="Who may send">
            <Field
              label="Allowed clients"
              hint="One address or range per line, e.g. 127.0.0.0/8, 192.168.1.20 or 10.0.0.0/8. Others are refused (554)."
              {...validation(issues, 'allowedClients')}
            >
              <Textarea value={form.allowedClients} resize="vertical" rows={4} onChange={(_, d) => change({ allowedClients: d.value })} />
            </Field>
          </Section>
          <Section title="Limits">
            <Field
              label="Largest message (MB)"
              hint={typeof bytes === 'number' ? `${Math.round(bytes * MB).toLocaleString()} bytes. Larger messages are refused (552). Microsoft 365 accepts up to 35 MB.` : undefined}
              {...validation(issues, 'maxMessageBytes')}
            >
              <Input value={form.maxMessageMB} inputMode="decimal" onChange={(_, d) => change({ maxMessageMB: d.value })} />
            </Field>
          </Section>
          <SaveBar
            dirty={section.dirty}
            saving={section.saving}
            savedAt={section.savedAt}
            error={section.saveError}
            onSave={() => void section.save()}
            onDiscard={section.discard}
          />
        </>
      )}
    </Page>
  );
}
