// Where the smarthost is and how to reach it safely: provider, host, port, security, certificate checks.
import { Field, Input, makeStyles, MessageBar, MessageBarBody, MessageBarTitle, Select, Switch, tokens } from '@fluentui/react-components';
import type { Config } from '../../../src/config/schema.js';
import { FieldRow, Section } from '../../components/Page.js';
import { validation, type Issues } from '../../hooks/use-config-section.js';
import { CUSTOM, PRESETS } from './presets.js';
import { presetPatch, type SmarthostForm } from './smarthost-form.js';

export interface FormProps {
  form: SmarthostForm;
  issues: Issues;
  change(patch: Partial<SmarthostForm>): void;
}

const SECURITY: [Config['smarthost']['security'], string][] = [
  ['starttls', 'STARTTLS, required (port 587)'],
  ['tls', 'TLS from the first byte (port 465)'],
  ['opportunistic', 'STARTTLS if the server offers it'],
  ['none', 'No encryption'],
];

const useStyles = makeStyles({ fields: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM } });

export function ConnectionFields({ form, issues, change, preset, onPreset }: FormProps & { preset: string; onPreset(id: string): void }) {
  const styles = useStyles();
  const hint = [...PRESETS, CUSTOM].find((p) => p.id === preset)?.hint;
  const choose = (id: string) => {
    onPreset(id);
    const p = PRESETS.find((x) => x.id === id);
    if (p) change(presetPatch(p, form));
  };
  return (
    <Section title="Server">
      <div className={styles.fields}>
        <Field label="Provider" hint={hint}>
          <Select value={preset} onChange={(_, d) => choose(d.value)}>
            {preset === '' && <option value="">Choose your mail provider…</option>}
            {[...PRESETS, CUSTOM].map((p) => <option key={p.id} value={p.id}>{p.label}</option>)}
          </Select>
        </Field>
        <FieldRow>
          <Field label="Host" {...validation(issues, 'host')}>
            <Input value={form.host} placeholder="smtp.example.com" onChange={(_, d) => change({ host: d.value })} />
          </Field>
          <Field label="Port" {...validation(issues, 'port')}>
            <Input value={form.port} inputMode="numeric" onChange={(_, d) => change({ port: d.value })} />
          </Field>
        </FieldRow>
        <Field label="Security" {...validation(issues, 'security')}>
          <Select value={form.security} onChange={(_, d) => change({ security: d.value as SmarthostForm['security'] })}>
            {SECURITY.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
          </Select>
        </Field>
        {(form.security === 'none' || form.security === 'opportunistic') && (
          <MessageBar intent="warning" layout="multiline" data-testid="security-warning">
            <MessageBarBody>
              <MessageBarTitle>{form.security === 'none' ? 'No encryption' : 'Encryption only if the server offers it'}</MessageBarTitle>
              {securityWarning(form)}
              {' '}Use this only for a server inside your own network.
            </MessageBarBody>
          </MessageBar>
        )}
        {form.security !== 'none' && (
          <>
            <Switch
              label="Check the server's certificate"
              checked={form.verifyCertificate}
              onChange={(_, d) => change({ verifyCertificate: d.checked })}
            />
            {!form.verifyCertificate && (
              <MessageBar intent="warning" layout="multiline">
                <MessageBarBody>
                  <MessageBarTitle>Certificate checks are off</MessageBarTitle>
                  Anyone able to intercept the connection can pose as the server and read the mail and the password.
                  If the server uses your company's own certificate authority, turn this back on and give its CA file below instead.
                </MessageBarBody>
              </MessageBar>
            )}
            <Field
              label="CA file (optional)"
              hint="Only for a server whose certificate comes from your company's own certificate authority: the path of that CA certificate (PEM), e.g. C:\certs\corp-ca.pem."
              {...validation(issues, 'caFile')}
            >
              <Input value={form.caFile} onChange={(_, d) => change({ caFile: d.value })} />
            </Field>
          </>
        )}
      </div>
    </Section>
  );
}

/** What "none" and "opportunistic" mean for the mail and for the sign-in, in words. */
export function securityWarning(form: Pick<SmarthostForm, 'security' | 'method'>): string {
  const secret = form.method === 'password' ? 'password' : 'sign-in token';
  if (form.security === 'none') {
    return form.method === 'none' ? 'Mail crosses the network unencrypted.' : `Mail and the ${secret} cross the network unencrypted: anyone on the path can read them.`;
  }
  if (form.method === 'none') return 'If the server does not offer STARTTLS, or someone on the network hides it, mail goes unencrypted.';
  return 'If the server does not offer STARTTLS, or someone on the network hides it, mail goes unencrypted and the ' +
    `${secret} is not sent at all: the relay then delivers without signing in if the server allows it, else the mail waits with the reason.`;
}
