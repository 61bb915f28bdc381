// Log: the delivery log, newest first. It follows new lines only while asked to (Pause keeps the
// reader's place), searches the whole log on the relay (rotated files too), reads further back on
// request, and copies or exports what is shown (for a support ticket).
import { Badge, Button, Checkbox, makeStyles, SearchBox, Text, tokens } from '@fluentui/react-components';
import { ArrowDownloadRegular, CopyRegular, PauseRegular, PlayRegular } from '@fluentui/react-icons';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { AdviceBar } from '../../components/AdviceBar.js';
import { Page } from '../../components/Page.js';
import { errorText, localTime, plural } from '../../format.js';
import { findFromHash } from '../../hooks/use-page.js';
import { copyText, saveText } from './copy-text.js';
import { parseLogLine } from './log-line.js';

/** Lines fetched at a time: the newest while following, then more with "Older lines". */
const LINES = 300;
const REFRESH_MS = 3000;
const FILTER_DELAY_MS = 250;

/** Lines in `more` that `have` lacks (a page boundary repeats the lines of its last millisecond). */
function without(more: string[], have: string[]): string[] {
  const seen = new Set(have);
  return more.filter((l) => !seen.has(l));
}

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
  const [filter, setFilter] = useState(() => findFromHash(location.hash) ?? '');
  const [problemsOnly, setProblemsOnly] = useState(false);
  const [follow, setFollow] = useState(true);
  const [lines, setLines] = useState<string[] | null>(null);
  const [older, setOlder] = useState<'more' | 'reading' | 'none'>('more');
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState('');

  // The queue's "log lines of this message" opens #/log?find=id=…
  useEffect(() => {
    const onHash = () => {
      const find = findFromHash(location.hash);
      if (find !== null) setFilter(find);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const query = filter.trim() ? { contains: filter.trim() } : {};
  const queryKey = JSON.stringify(query);

  // A new filter starts over from the newest lines (the relay searches the whole log, rotated files too).
  useEffect(() => {
    if (!active) return;
    let live = true;
    const timer = setTimeout(() => {
      window.relay.getLog({ ...(JSON.parse(queryKey) as object), limit: LINES }).then((got) => {
        if (!live) return;
        if (!Array.isArray(got)) throw new Error('the relay sent no log');
        setLines(got);
        setOlder(got.length < LINES ? 'none' : 'more');
        setError(null);
      }).catch((e: unknown) => { if (live) setError(errorText(e)); });
    }, FILTER_DELAY_MS);
    return () => { live = false; clearTimeout(timer); };
  }, [active, queryKey]);

  // Following: new lines are added on top; nothing already shown moves or re-renders. Paused: nothing changes.
  const readNew = useCallback(async () => {
    try {
      const got = await window.relay.getLog({ ...(JSON.parse(queryKey) as object), limit: LINES });
      setLines((have) => (have ? [...without(got, have), ...have] : got));
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [queryKey]);
  useEffect(() => {
    if (!active || !follow) return;
    const timer = setInterval(() => void readNew(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [active, follow, readNew]);

  const readOlder = async () => {
    const oldest = lines?.at(-1);
    if (!oldest) return;
    setOlder('reading');
    try {
      const got = await window.relay.getLog({ ...query, limit: LINES, before: oldest.slice(0, 24) });
      const fresh = without(got, lines ?? []);
      setLines((have) => [...(have ?? []), ...without(got, have ?? [])]);
      setOlder(fresh.length === 0 ? 'none' : 'more');
    } catch (e) {
      setError(errorText(e));
      setOlder('more');
    }
  };

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
        <SearchBox className={styles.search} aria-label="Search the log" placeholder="Search the whole log: an address, a queue id, a Message-ID, 535…" value={filter} onChange={(_, d) => setFilter(d.value)} />
        <Checkbox label="Only warnings and errors" checked={problemsOnly} onChange={(_, d) => setProblemsOnly(Boolean(d.checked))} />
        <Button icon={follow ? <PauseRegular /> : <PlayRegular />} aria-pressed={follow} onClick={() => setFollow(!follow)}>{follow ? 'Pause (stop following)' : 'Follow new lines'}</Button>
        <Button icon={<CopyRegular />} disabled={!shown.length} onClick={() => void copy()}>Copy</Button>
        <Button icon={<ArrowDownloadRegular />} disabled={!shown.length} onClick={save}>Export…</Button>
        <Text role="status">{note}</Text>
      </div>
      {error && <AdviceBar title="The log could not be read" message={error} />}
      {lines && !shown.length && <Text>{filter || problemsOnly ? 'No line matches.' : 'The log is empty.'}</Text>}
      {shown.length > 0 && (
        <ol className={styles.lines} aria-label="Log lines, newest first">
          {shown.map((l) => (
            <li key={l.raw} className={styles.line}>
              <time className={styles.time} dateTime={l.at ? new Date(l.at).toISOString() : undefined}>{l.at ? localTime(l.at) : ''}</time>
              {l.level && l.level !== 'info' && <Badge className={styles.level} size="small" appearance="tint" color={l.level === 'error' ? 'danger' : 'warning'}>{l.level}</Badge>}
              <span className={styles.text}>{l.text}</span>
            </li>
          ))}
        </ol>
      )}
      {lines && lines.length > 0 && (
        <Button disabled={older !== 'more'} onClick={() => void readOlder()}>
          {older === 'reading' ? 'Reading…' : older === 'none' ? 'No older lines' : 'Older lines'}
        </Button>
      )}
    </Page>
  );
}
