// The set-up steps at Microsoft or Google, worded from the form as typed (not as saved), so the admin
// sees them while filling in the IDs, before Save, with the tenant and client ID in the commands, and
// can copy each command or value rather than retype it. Config keys in them read as the fields' labels.
import { Button, Field, makeStyles, Text, tokens } from '@fluentui/react-components';
import { CopyRegular } from '@fluentui/react-icons';
import { useState } from 'react';
import type { Config } from '../../../src/config/schema.js';
import { oauthChecklist } from '../../../src/oauth/checklist.js';
import { inWindowWords } from '../../field-labels.js';
import { errorText } from '../../format.js';
import { copyText } from '../log/copy-text.js';
import { toInput, type SmarthostForm } from './smarthost-form.js';

const useStyles = makeStyles({
  steps: { margin: 0, paddingInlineStart: tokens.spacingHorizontalXL, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  step: { overflowWrap: 'anywhere', display: 'flex', flexDirection: 'column', alignItems: 'flex-start', gap: tokens.spacingVerticalXXS },
});

/**
 * What to paste from a step: the PowerShell after "administrator:", a smtp-relay command, or a scope
 * URL; the whole step when it is only clicks. Notes in parentheses are for the reader, not the shell.
 */
export function stepCommand(step: string): string {
  const powershell = /PowerShell, as an Exchange administrator: (.+)$/.exec(step);
  if (powershell) return (powershell[1] as string).replace(/ \([^()]*\)/g, '');
  const command = /(smtp-relay [a-z-]+(?: [a-z-]+)?(?: [\w.-]+\.(?:pem|json))?)/.exec(step);
  if (command) return command[1] as string;
  const scope = /(https:\/\/\S+\/)/.exec(step);
  return scope ? (scope[1] as string) : step;
}

export function OAuthSteps({ form, saved, method }: { form: SmarthostForm; saved: Config; method: 'oauth2-microsoft' | 'oauth2-google' }) {
  const styles = useStyles();
  const [copied, setCopied] = useState<string | null>(null);
  // The checklist reads smarthost.auth only; toInput leaves a mistyped port as text, which it never reads.
  const steps = oauthChecklist({ ...saved, smarthost: toInput(form, saved.smarthost) as Config['smarthost'] });
  if (!steps.length) return null;
  const copy = (i: number, text: string) => {
    copyText(text).then(() => setCopied(`Step ${i + 1} copied`), (e: unknown) => setCopied(`Not copied: ${errorText(e)}`));
  };
  return (
    <Field label={`Set-up at ${method === 'oauth2-microsoft' ? 'Microsoft' : 'Google'} (once)`} hint="Filled in with the IDs as typed above.">
      <ol className={styles.steps}>
        {steps.map((step, i) => (
          <li key={step} className={styles.step}>
            <Text size={200}>{inWindowWords(step)}</Text>
            <Button size="small" appearance="subtle" icon={<CopyRegular />} aria-label={`Copy step ${i + 1}: ${stepCommand(step)}`} onClick={() => copy(i, stepCommand(step))}>
              {stepCommand(step) === step ? 'Copy' : 'Copy command'}
            </Button>
          </li>
        ))}
      </ol>
      <Text size={200} role="status">{copied}</Text>
    </Field>
  );
}
