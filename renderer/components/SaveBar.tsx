// Save / Discard for a settings form, with what happened to the last save.
import { Button, makeStyles, mergeClasses, Text, tokens } from '@fluentui/react-components';
import { CheckmarkCircleFilled } from '@fluentui/react-icons';
import type { SaveProblem } from '../hooks/use-config-section.js';
import { AdviceBar } from './AdviceBar.js';

const useStyles = makeStyles({
  bar: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: tokens.spacingHorizontalM },
  // With changes to save, the buttons stay in view at the bottom of a long page.
  pending: {
    position: 'sticky', bottom: 0, zIndex: 1, paddingBlock: tokens.spacingVerticalS,
    background: tokens.colorNeutralBackground1, borderTop: `1px solid ${tokens.colorNeutralStroke3}`,
  },
  saved: { display: 'inline-flex', alignItems: 'center', gap: tokens.spacingHorizontalXS, color: tokens.colorPaletteGreenForeground1 },
});

interface SaveBarProps {
  dirty: boolean;
  saving: boolean;
  savedAt: number | null;
  error: SaveProblem | null;
  onSave(): void;
  onDiscard(): void;
}

export function SaveBar({ dirty, saving, savedAt, error, onSave, onDiscard }: SaveBarProps) {
  const styles = useStyles();
  return (
    <>
      {error && <AdviceBar title={error.kept ? 'Saved, but the relay could not use the new settings' : 'The settings were not saved'} message={error.message} />}
      <div className={mergeClasses(styles.bar, dirty && styles.pending)}>
        <Button appearance="primary" disabled={!dirty || saving} onClick={onSave}>{saving ? 'Saving…' : 'Save'}</Button>
        <Button disabled={!dirty || saving} onClick={onDiscard}>Discard changes</Button>
        <span role="status">
          {savedAt && !dirty && <Text className={styles.saved}><CheckmarkCircleFilled aria-hidden />Saved</Text>}
        </span>
      </div>
    </>
  );
}
