// OAuth2 sign-in (issue 7's settings): the app registration's IDs, which credential proves the app,
// that credential (write-only, stored on Save), and the set-up steps at Microsoft or Google (OAuthSteps).
import { Button, Field, Input, makeStyles, Select, Text, Textarea, tokens } from '@fluentui/react-components';
import { CheckmarkCircleFilled, WarningFilled } from '@fluentui/react-icons';
import type { OAuthStatus } from '../../../src/api/contract.js';
import type { Config } from '../../../src/config/schema.js';
import { validation } from '../../hooks/use-config-section.js';
import type { FormProps } from './ConnectionFields.js';
import { OAuthSteps } from './OAuthSteps.js';
import { PasswordField } from './PasswordField.js';
import type { SmarthostForm } from './smarthost-form.js';

/** Secrets typed on the page, stored when the settings are saved. */
export interface OAuthSecrets {
  /** The smarthost password, or the OAuth2 client secret (stored the same way). */
  password: string;
  certificate: string;
  serviceAccount: string;
}

const CREDENTIALS: Record<'oauth2-microsoft' | 'oauth2-google', [SmarthostForm['credential'], string][]> = {
  'oauth2-microsoft': [['client-secret', 'Client secret'], ['certificate', 'Certificate']],
  'oauth2-google': [['service-account', 'Service account (Google Workspace)'], ['installed-app', 'Sign in once in the browser (a Gmail account)']],
};

const useStyles = makeStyles({
  stored: { display: 'inline-flex', alignItems: 'center', gap: tokens.spacingHorizontalXS },
});

interface OAuthFieldsProps extends FormProps {
  method: 'oauth2-microsoft' | 'oauth2-google';
  status: OAuthStatus | null;
  saved: Config;
  secrets: OAuthSecrets;
  setSecrets(patch: Partial<OAuthSecrets>): void;
  onSignIn(): void;
}

export function OAuthFields({ form, saved, issues, change, method, status, secrets, setSecrets, onSignIn }: OAuthFieldsProps) {
  const styles = useStyles();
  const options = CREDENTIALS[method];
  const credential = form.credential === 'auto' ? (options[0] as [SmarthostForm['credential'], string])[0] : form.credential;
  const stored = (kind: string) => status?.secrets.find((s) => s.kind === kind) ?? null;
  const storedNote = (kind: string, what: string) => {
    const s = stored(kind);
    if (!s?.account) return null;
    return s.stored
      ? <Text className={styles.stored}><CheckmarkCircleFilled aria-hidden />{what} stored{s.detail ? `: ${s.detail}` : ''}</Text>
      : <Text className={styles.stored}><WarningFilled aria-hidden />No {what.toLowerCase()} stored yet</Text>;
  };
  return (
    <>
      {method === 'oauth2-microsoft' && (
        <>
          <Field label="Directory (tenant) ID" {...validation(issues, 'auth.tenantId')}>
            <Input value={form.tenantId} placeholder="contoso.onmicrosoft.com or a GUID" onChange={(_, d) => change({ tenantId: d.value })} />
          </Field>
          <Field label="Application (client) ID" {...validation(issues, 'auth.clientId')}>
            <Input value={form.clientId} placeholder="4a1b2c3d-0000-1111-2222-333344445555" onChange={(_, d) => change({ clientId: d.value })} />
          </Field>
        </>
      )}
      <Field label="Credential" {...validation(issues, 'auth.credential')}>
        <Select value={credential} onChange={(_, d) => change({ credential: d.value as SmarthostForm['credential'] })}>
          {options.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
        </Select>
      </Field>
      {method === 'oauth2-google' && credential === 'installed-app' && (
        <Field label="OAuth client ID" {...validation(issues, 'auth.clientId')}>
          <Input value={form.clientId} onChange={(_, d) => change({ clientId: d.value })} />
        </Field>
      )}
      {(credential === 'client-secret' || credential === 'installed-app') && (
        <PasswordField
          label="Client secret"
          hint="The secret's Value (not its ID). Stored in Windows Credential Manager when you save; never shown again."
          value={secrets.password}
          onChange={(password) => setSecrets({ password })}
          stored={stored('client-secret')?.account ? { stored: Boolean(stored('client-secret')?.stored), fromEnvironment: Boolean(stored('client-secret')?.detail) } : null}
        />
      )}
      {credential === 'certificate' && (
        <Field label="Certificate with its private key (PEM)" hint="Paste it here; it is stored in Windows Credential Manager when you save and never shown again.">
          <Textarea value={secrets.certificate} resize="vertical" onChange={(_, d) => setSecrets({ certificate: d.value })} placeholder="-----BEGIN CERTIFICATE-----" />
        </Field>
      )}
      {credential === 'certificate' && storedNote('certificate', 'Certificate')}
      {credential === 'service-account' && (
        <Field label="Service account key (JSON)" hint="Paste the key file's content; it is stored in Windows Credential Manager when you save. Delete the file afterwards.">
          <Textarea value={secrets.serviceAccount} resize="vertical" onChange={(_, d) => setSecrets({ serviceAccount: d.value })} placeholder='{ "type": "service_account", …' />
        </Field>
      )}
      {credential === 'service-account' && storedNote('service-account', 'Key')}
      {credential === 'installed-app' && (
        <div>
          <Button onClick={onSignIn}>Sign in with Google…</Button>
          {' '}{storedNote('refresh-token', 'Sign-in')}
        </div>
      )}
      <OAuthSteps form={form} saved={saved} method={method} />
    </>
  );
}
