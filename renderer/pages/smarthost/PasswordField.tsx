// A write-only secret: typed here, stored in the keychain on Save, never shown or read back. The page
// only learns whether one is stored.
import { Button, Field, Input, makeStyles, mergeClasses, Text, tokens } from '@fluentui/react-components';
import { CheckmarkCircleFilled, WarningFilled } from '@fluentui/react-icons';

const useStyles = makeStyles({
  state: { display: 'inline-flex', alignItems: 'center', gap: tokens.spacingHorizontalXS },
  stored: { color: tokens.colorPaletteGreenForeground1 },
  missing: { color: tokens.colorPaletteDarkOrangeForeground1 },
  row: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: tokens.spacingHorizontalM },
});

interface PasswordFieldProps {
  label: string;
  value: string;
  onChange(value: string): void;
  /** Whether one is stored, and where from; null while not known (no account yet). */
  stored: { stored: boolean; fromEnvironment: boolean } | null;
  onRemove?: () => void;
  hint?: string;
}

export function PasswordField({ label, value, onChange, stored, onRemove, hint }: PasswordFieldProps) {
  const styles = useStyles();
  return (
    <div>
      <Field label={label} hint={hint ?? 'Stored in Windows Credential Manager when you save, never in the settings file. It is never shown again.'}>
        <Input
          type="password"
          autoComplete="new-password"
          value={value}
          placeholder={stored?.stored ? 'A password is stored; type here to replace it' : ''}
          onChange={(_, d) => onChange(d.value)}
        />
      </Field>
      <div className={styles.row}>
        {stored?.fromEnvironment && (
          <Text className={styles.state}>The SMTP_RELAY_SMARTHOST_PASSWORD environment variable supplies it; it overrides a stored one.</Text>
        )}
        {stored && !stored.fromEnvironment && (stored.stored
          ? <Text className={mergeClasses(styles.state, styles.stored)}><CheckmarkCircleFilled aria-hidden />Stored in Windows Credential Manager</Text>
          : <Text className={mergeClasses(styles.state, styles.missing)}><WarningFilled aria-hidden />None stored yet: mail waits in the queue until there is one</Text>)}
        {stored?.stored && !stored.fromEnvironment && onRemove && <Button size="small" appearance="subtle" onClick={onRemove}>Remove stored {label.toLowerCase()}</Button>}
      </div>
    </div>
  );
}
