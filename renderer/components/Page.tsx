// The frame of every page: a heading the page is labelled by, one line saying what it is for, content.
import { Body1, makeStyles, Title3, tokens } from '@fluentui/react-components';
import { useId, type ReactNode } from 'react';

const useStyles = makeStyles({
  page: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalL, maxWidth: '52rem' },
  intro: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS },
  title: { margin: 0 },
  description: { color: tokens.colorNeutralForeground2 },
});

/** `onBlur` sees focus leave any field of the page (a settings form shows a field's message from then on). */
export function Page({ title, description, children, onBlur }: { title: string; description: ReactNode; children: ReactNode; onBlur?(event: { target: EventTarget | null }): void }) {
  const styles = useStyles();
  const id = useId();
  return (
    <section className={styles.page} aria-labelledby={id} onBlur={onBlur}>
      <div className={styles.intro}>
        <Title3 as="h2" id={id} className={styles.title}>{title}</Title3>
        <Body1 className={styles.description}>{description}</Body1>
      </div>
      {children}
    </section>
  );
}

const useSectionStyles = makeStyles({
  section: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  heading: { margin: 0, fontSize: tokens.fontSizeBase400, fontWeight: tokens.fontWeightSemibold, lineHeight: tokens.lineHeightBase400 },
});

/** A titled group of fields inside a page. */
export function Section({ title, children }: { title: string; children: ReactNode }) {
  const styles = useSectionStyles();
  const id = useId();
  return (
    <section className={styles.section} aria-labelledby={id}>
      <h3 className={styles.heading} id={id}>{title}</h3>
      {children}
    </section>
  );
}

const useRowStyles = makeStyles({
  // Two fields side by side (host and port), one above the other when the window is narrow.
  row: {
    display: 'grid',
    gridTemplateColumns: 'minmax(0, 1fr) minmax(7rem, 10rem)',
    gap: tokens.spacingHorizontalM,
    alignItems: 'start',
    '@media (max-width: 560px)': { gridTemplateColumns: 'minmax(0, 1fr)' },
    // Fluent's inputs have a minimum width of their own; in a grid cell they must shrink to it.
    '& .fui-Input': { minWidth: 0 },
  },
});

export function FieldRow({ children }: { children: ReactNode }) {
  return <div className={useRowStyles().row}>{children}</div>;
}
