// Smarthost: the server all mail is handed to, how to sign in to it, and a test of the way there.
import { Field, Input } from '@fluentui/react-components';
import { useCallback, useEffect, useState } from 'react';
import type { OAuthStatus, PasswordStatus } from '../../../src/api/contract.js';
import { AdviceBar } from '../../components/AdviceBar.js';
import { Page, Section } from '../../components/Page.js';
import { SaveBar } from '../../components/SaveBar.js';
import { errorText } from '../../format.js';
import { useConfigSection, validation } from '../../hooks/use-config-section.js';
import { ConnectionFields } from './ConnectionFields.js';
import type { OAuthSecrets } from './OAuthFields.js';
import { CUSTOM, PRESETS, presetForHost } from './presets.js';
import { SignInFields } from './SignInFields.js';
import { toForm, toInput } from './smarthost-form.js';
import { TestConnection } from './TestConnection.js';

const NO_SECRETS: OAuthSecrets = { password: '', certificate: '', serviceAccount: '' };

export function SmarthostPage() {
  const section = useConfigSection('smarthost', toForm, toInput);
  const { form, saved } = section;
  const [preset, setPreset] = useState('');
  const [secrets, setSecretsState] = useState<OAuthSecrets>(NO_SECRETS);
  const [secretError, setSecretError] = useState<string | null>(null);
  const [passwordStatus, setPasswordStatus] = useState<PasswordStatus | null>(null);
  const [oauthStatus, setOAuthStatus] = useState<OAuthStatus | null>(null);
  const [savedAt, setSavedAt] = useState<number | null>(null);

  const readSecretStatus = useCallback(async () => {
    const [p, o] = await Promise.all([
      window.relay.getPasswordStatus().catch(() => null),
      window.relay.getOAuthStatus().catch(() => null),
    ]);
    setPasswordStatus(p && typeof p === 'object' ? p : null);
    setOAuthStatus(o && typeof o === 'object' && Array.isArray(o.secrets) ? o : null);
  }, []);

  // The saved host decides the provider shown; the keychain entries are named after the saved settings.
  useEffect(() => {
    if (!saved) return;
    setPreset(presetForHost(saved.smarthost.host));
    void readSecretStatus();
  }, [saved, readSecretStatus]);

  const setSecrets = (patch: Partial<OAuthSecrets>) => {
    setSecretsState((s) => ({ ...s, ...patch }));
    setSecretError(null);
  };
  const typedSecret = Object.values(secrets).some((v) => v !== '');
  const unsaved = section.dirty || typedSecret;

  /** Settings first (the keychain account is named after them), then each secret typed. */
  const save = async (): Promise<boolean> => {
    if (section.dirty && !(await section.save())) return false;
    try {
      if (secrets.password) await window.relay.setPassword(secrets.password);
      if (secrets.certificate) await window.relay.setOAuthSecret('certificate', secrets.certificate);
      if (secrets.serviceAccount) await window.relay.setOAuthSecret('service-account', secrets.serviceAccount);
      setSecretsState(NO_SECRETS);
      setSavedAt(Date.now());
      return true;
    } catch (e) {
      setSecretError(errorText(e));
      return false;
    } finally {
      await readSecretStatus();
    }
  };

  // A click handler returns nothing; the action's errors are shown, and readSecretStatus never rejects.
  const act = (action: () => Promise<unknown>) => () => void (async () => {
    setSecretError(null);
    try {
      await action();
    } catch (e) {
      setSecretError(errorText(e));
    }
    await readSecretStatus();
  })();

  const discard = () => {
    section.discard();
    setSecretsState(NO_SECRETS);
    setSecretError(null);
    if (saved) setPreset(presetForHost(saved.smarthost.host));
  };

  return (
    <Page title="Smarthost" onBlur={section.onBlur} description="The mail server this relay hands every message to: your Microsoft 365 or Google account, a mail service, or your company's relay.">
      {section.loadError && <AdviceBar title="The settings could not be read" message={section.loadError} />}
      {form && saved && (
        <>
          <ConnectionFields form={form} issues={section.issues} change={section.change} preset={preset} onPreset={setPreset} />
          <SignInFields
            form={form}
            issues={section.issues}
            change={section.change}
            usernamePlaceholder={[...PRESETS, CUSTOM].find((p) => p.id === preset)?.usernamePlaceholder ?? CUSTOM.usernamePlaceholder}
            secrets={secrets}
            setSecrets={setSecrets}
            passwordStatus={passwordStatus}
            oauthStatus={oauthStatus}
            saved={saved}
            onRemovePassword={act(() => window.relay.deletePassword())}
            onSignIn={act(() => window.relay.oauthLogin())}
          />
          <Section title="Limits">
            <Field
              label="Connections at once"
              hint="How many messages go out in parallel. Microsoft 365 allows 3 per mailbox."
              {...validation(section.issues, 'maxConnections')}
            >
              <Input value={form.maxConnections} inputMode="numeric" onChange={(_, d) => section.change({ maxConnections: d.value })} />
            </Field>
          </Section>
          {secretError && <AdviceBar title="The secret was not stored" message={secretError} />}
          <SaveBar
            dirty={unsaved}
            saving={section.saving}
            savedAt={savedAt}
            error={section.saveError}
            onSave={() => void save()}
            onDiscard={discard}
          />
          <TestConnection unsaved={unsaved} saveFirst={save} />
        </>
      )}
    </Page>
  );
}
