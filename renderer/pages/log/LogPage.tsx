// Log: the delivery log, newest first, with a filter, copy and export (for a support ticket).
import { Badge, Button, Checkbox, makeStyles, SearchBox, Text, tokens } from '@fluentui/react-components';
import { ArrowDownloadRegular, CopyRegular } from '@fluentui/react-icons';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { AdviceBar } from '../../components/AdviceBar.js';
import { Page } from '../../components/Page.js';
import { errorText, localTime, plural } from '../../format.js';
import { copyText, saveText } from './copy-text.js';
import { parseLogLine } from './log-line.js';

const LINES = 1000;
const REFRESH_MS = 3000;
const FILTER_DELAY_MS = 250;

const useStyles = makeStyles({
  bar: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: tokens.spacingHorizontalM },
  search: { flex: '1 1 14rem', maxWidth: '24rem' },
  lines: {
    listStyle: 'none', margin: 0, padding: 0, border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: tokens.borderRadiusMedium,
    fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase200,
  },
  line: {
    display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'baseline', padding: `${tokens.spacingVerticalXXS} ${tokens.spacingHorizontalS}`,
    borderBottom: `1px solid ${tokens.colorNeutralStroke3}`,
  },
  time: { flex: 'none', color: tokens.colorNeutralForeground3 },
  level: { flex: 'none' },
  text: { minWidth: 0, overflowWrap: 'anywhere' },
});

export function LogPage({ active }: { active: boolean }) {
  const styles = useStyles();
  const [filter, setFilter] = useState('');
  const [problemsOnly, setProblemsOnly] = useState(false);
  const [lines, setLines] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState('');

  const read = useCallback(async () => {
    try {
      const got = await window.relay.getLog({ ...(filter.trim() ? { contains: filter.trim() } : {}), limit: LINES });
      if (!Array.isArray(got)) throw new Error('the relay sent no log');
      setLines(got);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [filter]);

  // New lines are read every few seconds while the page is shown, and soon after the filter changes.
  useEffect(() => {
    if (!active) return;
    const first = setTimeout(() => void read(), FILTER_DELAY_MS);
    const timer = setInterval(() => void read(), REFRESH_MS);
    return () => {
      clearTimeout(first);
      clearInterval(timer);
    };
  }, [active, read]);

  const shown = useMemo(() => (lines ?? []).map(parseLogLine).filter((l) => !problemsOnly || l.level === 'warning' || l.level === 'error'), [lines, problemsOnly]);
  const text = () => shown.map((l) => l.raw).join('\n') + '\n';

  const copy = () => copyText(text()).then(() => setNote(`Copied ${plural(shown.length, 'line')}.`), (e: unknown) => setNote(`Not copied: ${errorText(e)}`));
  const save = () => {
    saveText(`smtp-relay-log-${new Date().toISOString().slice(0, 10)}.txt`, text());
    setNote(`Saved ${plural(shown.length, 'line')}.`);
  };

  return (
    <Page title="Log" description="What the relay did, newest first: messages received, delivered, deferred or refused, with the servers' replies.">
      <div className={styles.bar}>
        <SearchBox className={styles.search} aria-label="Filter the log" placeholder="Filter: an address, a message id, 535…" value={filter} onChange={(_, d) => setFilter(d.value)} />
        <Checkbox label="Only warnings and errors" checked={problemsOnly} onChange={(_, d) => setProblemsOnly(Boolean(d.checked))} />
        <Button icon={<CopyRegular />} disabled={!shown.length} onClick={() => void copy()}>Copy</Button>
        <Button icon={<ArrowDownloadRegular />} disabled={!shown.length} onClick={save}>Export…</Button>
        <Text role="status">{note}</Text>
      </div>
      {error && <AdviceBar title="The log could not be read" message={error} />}
      {lines && !shown.length && <Text>{filter || problemsOnly ? 'No line matches.' : 'The log is empty.'}</Text>}
      {shown.length > 0 && (
        <ol className={styles.lines} aria-label="Log lines, newest first">
          {shown.map((l, i) => (
            <li key={`${i}:${l.raw}`} className={styles.line}>
              <time className={styles.time} dateTime={l.at ? new Date(l.at).toISOString() : undefined}>{l.at ? localTime(l.at) : ''}</time>
              {l.level && l.level !== 'info' && <Badge className={styles.level} size="small" appearance="tint" color={l.level === 'error' ? 'danger' : 'warning'}>{l.level}</Badge>}
              <span className={styles.text}>{l.text}</span>
            </li>
          ))}
        </ol>
      )}
    </Page>
  );
}
