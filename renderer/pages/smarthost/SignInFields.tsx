// How the relay signs in to the smarthost: nothing, a username and password, or OAuth2 (OAuthFields).
import { Field, Input, makeStyles, Select, tokens } from '@fluentui/react-components';
import type { OAuthStatus, PasswordStatus } from '../../../src/api/contract.js';
import type { Config } from '../../../src/config/schema.js';
import { Section } from '../../components/Page.js';
import { validation } from '../../hooks/use-config-section.js';
import type { FormProps } from './ConnectionFields.js';
import { OAuthFields, type OAuthSecrets } from './OAuthFields.js';
import { PasswordField } from './PasswordField.js';
import type { SmarthostForm } from './smarthost-form.js';

const METHODS: [SmarthostForm['method'], string][] = [
  ['none', 'No sign-in'],
  ['password', 'Username and password'],
  ['oauth2-microsoft', 'Microsoft 365 (OAuth2, app registration)'],
  ['oauth2-google', 'Google (OAuth2)'],
];

const MECHANISMS: [SmarthostForm['mechanism'], string][] = [
  ['auto', 'Automatic (LOGIN when offered, else PLAIN)'],
  ['LOGIN', 'LOGIN'],
  ['PLAIN', 'PLAIN'],
  ['CRAM-MD5', 'CRAM-MD5'],
];

const useStyles = makeStyles({ fields: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM } });

interface SignInProps extends FormProps {
  usernamePlaceholder: string;
  secrets: OAuthSecrets;
  setSecrets(patch: Partial<OAuthSecrets>): void;
  passwordStatus: PasswordStatus | null;
  oauthStatus: OAuthStatus | null;
  saved: Config;
  onRemovePassword(): void;
  onSignIn(): void;
}

export function SignInFields(props: SignInProps) {
  const { form, issues, change, secrets, setSecrets, passwordStatus } = props;
  const styles = useStyles();
  return (
    <Section title="Sign-in">
      <div className={styles.fields}>
        <Field label="Sign-in method" {...validation(issues, 'auth.method')}>
          <Select value={form.method} onChange={(_, d) => change({ method: d.value as SmarthostForm['method'], credential: 'auto' })}>
            {METHODS.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
          </Select>
        </Field>
        {form.method !== 'none' && (
          <Field
            label={form.method === 'password' ? 'Username' : 'Mailbox'}
            hint={form.method === 'password' ? 'Usually the full e-mail address of the mailbox that sends.' : 'The e-mail address the relay sends as.'}
            {...validation(issues, 'auth.username')}
          >
            <Input value={form.username} placeholder={props.usernamePlaceholder} onChange={(_, d) => change({ username: d.value })} />
          </Field>
        )}
        {form.method === 'password' && (
          <>
            <PasswordField
              label="Password"
              value={secrets.password}
              onChange={(password) => setSecrets({ password })}
              stored={passwordStatus?.account ? { stored: passwordStatus.stored, fromEnvironment: passwordStatus.source === 'env' } : null}
              onRemove={props.onRemovePassword}
            />
            <Field label="Login method" hint="Leave on Automatic unless the server's administrator asks for one." {...validation(issues, 'auth.mechanism')}>
              <Select value={form.mechanism} onChange={(_, d) => change({ mechanism: d.value as SmarthostForm['mechanism'] })}>
                {MECHANISMS.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
              </Select>
            </Field>
          </>
        )}
        {(form.method === 'oauth2-microsoft' || form.method === 'oauth2-google') && (
          <OAuthFields {...props} method={form.method} status={props.oauthStatus} secrets={secrets} setSecrets={setSecrets} />
        )}
      </div>
    </Section>
  );
}
