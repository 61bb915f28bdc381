// The queue as one dense row per message: status, age, recipients, subject, attempts, the true next
// try, the last reply, and the queue id (which opens the message's log lines). Rows can be selected
// for a bulk retry or delete.
import { Badge, Button, Checkbox, makeStyles, tokens } from '@fluentui/react-components';
import { DocumentTextRegular, TextBulletListLtrRegular } from '@fluentui/react-icons';
import { memo, useEffect, useState } from 'react';
import type { QueueItem } from '../../../src/api/contract.js';
import { duration, fromNow, localTime, plural } from '../../format.js';

export const STATUS: Record<QueueItem['status'], { label: string; color: 'informative' | 'warning' | 'danger' }> = {
  queued: { label: 'Waiting', color: 'informative' },
  deferred: { label: 'Will retry', color: 'warning' },
  failed: { label: 'Failed', color: 'danger' },
};

// Fixed layout and ellipsis: the table never scrolls sideways; narrow windows (or 200 % zoom) drop the
// columns that matter least, and every cut text has its full form in a tooltip.
const NARROW = '@media (max-width: 1000px)';
const NARROWER = '@media (max-width: 640px)';

const useStyles = makeStyles({
  wrap: { border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: tokens.borderRadiusMedium },
  table: { width: '100%', tableLayout: 'fixed', borderCollapse: 'collapse', fontSize: tokens.fontSizeBase200, lineHeight: tokens.lineHeightBase200 },
  th: {
    textAlign: 'left', fontWeight: tokens.fontWeightSemibold, padding: `${tokens.spacingVerticalXS} ${tokens.spacingHorizontalXS}`,
    background: tokens.colorNeutralBackground3, borderBottom: `1px solid ${tokens.colorNeutralStroke2}`, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap',
  },
  td: {
    padding: `1px ${tokens.spacingHorizontalXS}`, borderBottom: `1px solid ${tokens.colorNeutralStroke3}`, verticalAlign: 'middle',
    whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis',
  },
  mono: { fontFamily: tokens.fontFamilyMonospace },
  minor: { [NARROW]: { display: 'none' } },
  least: { [NARROWER]: { display: 'none' } },
  actions: { display: 'flex', gap: tokens.spacingHorizontalXXS },
  // In forced colours the badge's fill is dropped: a border keeps it a status chip around its word.
  status: { '@media (forced-colors: active)': { border: '1px solid CanvasText' } },
});

/** Column widths, and which columns a narrow window drops. */
const COLUMNS: { label: string; width: string; hide?: 'minor' | 'least' }[] = [
  { label: 'Status', width: '5.75rem' }, { label: 'Age', width: '4rem', hide: 'minor' }, { label: 'To', width: '22%' },
  { label: 'Subject', width: '22%', hide: 'least' }, { label: 'Attempts', width: '4.5rem', hide: 'minor' }, { label: 'Next try', width: '18%', hide: 'minor' },
  { label: 'Last reply', width: '22%', hide: 'minor' }, { label: 'Queue id', width: '9.5rem', hide: 'least' }, { label: 'Open', width: '4rem' },
];

/** Rows in the table's first frame: more than 800×600 shows. */
const FIRST_ROWS = 30;

interface QueueTableProps {
  items: QueueItem[];
  now: number;
  selected: Set<string>;
  onSelect(ids: string[], on: boolean): void;
  onHeaders(item: QueueItem): void;
  onLog(item: QueueItem): void;
}

/** The last reply of the recipient tried most recently. */
function lastReply(item: QueueItem): string {
  const tried = item.recipients.filter((r) => r.lastReply).sort((a, b) => (b.lastAttempt ?? 0) - (a.lastAttempt ?? 0));
  return tried[0]?.lastReply ?? '';
}

function nextTry(item: QueueItem, now: number): string {
  if (item.status === 'failed') return '—';
  if (item.nextAttempt === null) return item.held ? `on hold: ${item.held}` : '—';
  const at = `${fromNow(item.nextAttempt, now)} (${localTime(item.nextAttempt, now)})`;
  return item.held ? `${at}: ${item.held}` : at;
}

export function QueueTable({ items, now, selected, onSelect, onHeaders, onLog }: QueueTableProps) {
  const styles = useStyles();
  const all = items.length > 0 && items.every((i) => selected.has(i.id));
  const some = items.some((i) => selected.has(i.id));
  const hide = (h?: 'minor' | 'least') => (h ? styles[h] : '');
  // A screen's worth of rows first, the rest a frame later: drawing 100 rows at once held the first back.
  const [drawn, setDrawn] = useState(FIRST_ROWS);
  useEffect(() => {
    if (drawn >= items.length) return;
    const frame = requestAnimationFrame(() => setDrawn(Infinity));
    return () => cancelAnimationFrame(frame);
  }, [drawn, items.length]);
  return (
    <div className={styles.wrap}>
      <table className={styles.table} aria-label="Messages in the queue">
        <colgroup>
          <col style={{ width: '2.25rem' }} />
          {COLUMNS.map((c) => <col key={c.label} className={hide(c.hide)} style={{ width: c.width }} />)}
        </colgroup>
        <thead>
          <tr>
            <th className={styles.th}>
              <Checkbox aria-label="Select all shown" checked={all ? true : some ? 'mixed' : false} onChange={(_, d) => onSelect(items.map((i) => i.id), Boolean(d.checked))} />
            </th>
            {COLUMNS.map((c) => <th key={c.label} className={`${styles.th} ${hide(c.hide)}`} scope="col">{c.label}</th>)}
          </tr>
        </thead>
        <tbody>
          {items.slice(0, drawn).map((item) => <QueueRow key={item.id} item={item} now={now} checked={selected.has(item.id)} onSelect={onSelect} onHeaders={onHeaders} onLog={onLog} />)}
        </tbody>
      </table>
    </div>
  );
}

interface QueueRowProps extends Pick<QueueTableProps, 'now' | 'onSelect' | 'onHeaders' | 'onLog'> {
  item: QueueItem;
  checked: boolean;
}

/** One message; memoised, so showing the page or ticking one box does not draw every row again. */
const QueueRow = memo(function QueueRow({ item, now, checked, onSelect, onHeaders, onLog }: QueueRowProps) {
  const styles = useStyles();
  const hide = (h?: 'minor' | 'least') => (h ? styles[h] : '');
  const cell = (i: number, extra = '') => `${styles.td} ${hide(COLUMNS[i]?.hide)} ${extra}`;
  const to = item.recipients.map((r) => r.address).join(', ');
  const reply = lastReply(item);
  const next = nextTry(item, now);
  return (
    <tr data-id={item.id} data-status={item.status} title={`${STATUS[item.status].label} · ${duration(now - item.created)} · ${plural(item.attempts, 'attempt')} · next try: ${next}${reply ? ` · ${reply}` : ''}`}>
      <td className={styles.td}><Checkbox aria-label={`Select the message to ${to}`} checked={checked} onChange={(_, d) => onSelect([item.id], Boolean(d.checked))} /></td>
      <td className={cell(0)}><Badge appearance="tint" className={styles.status} color={STATUS[item.status].color}>{STATUS[item.status].label}</Badge></td>
      <td className={cell(1)}>{duration(now - item.created)}</td>
      <td className={cell(2)} title={to}>{to}</td>
      <td className={cell(3)} title={item.subject}>{item.subject || '(no subject)'}</td>
      <td className={cell(4)}>{item.attempts}</td>
      <td className={cell(5)} title={next}>{next}</td>
      <td className={cell(6, styles.mono)} title={reply}>{reply}</td>
      <td className={cell(7, styles.mono)} title={item.id}>{item.id}</td>
      <td className={cell(8)}>
        <span className={styles.actions}>
          {/* The browser's own tooltip (title): a Fluent Tooltip per button made 200 more components to draw per page. */}
          <Button size="small" appearance="subtle" icon={<TextBulletListLtrRegular />} aria-label={`Log lines of ${item.id}`} title={`Log lines of ${item.id}`} onClick={() => onLog(item)} />
          <Button size="small" appearance="subtle" icon={<DocumentTextRegular />} aria-label="Headers" title="Headers" onClick={() => onHeaders(item)} />
        </span>
      </td>
    </tr>
  );
});
