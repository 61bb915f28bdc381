// One waiting or failed message: who sent it, to whom, how long it has waited, what the server last
// said for each recipient, and what can be done about it.
import { Badge, Button, makeStyles, Text, tokens } from '@fluentui/react-components';
import { ArrowClockwiseRegular, DeleteRegular, DocumentTextRegular } from '@fluentui/react-icons';
import type { QueueItem, RecipientStatus } from '../../../src/api/contract.js';
import { ago, duration, fromNow, localTime } from '../../format.js';

const STATUS: Record<QueueItem['status'] | RecipientStatus, { label: string; color: 'informative' | 'warning' | 'danger' | 'success' }> = {
  queued: { label: 'Waiting', color: 'informative' },
  deferred: { label: 'Will retry', color: 'warning' },
  failed: { label: 'Failed', color: 'danger' },
  sent: { label: 'Delivered', color: 'success' },
};

const useStyles = makeStyles({
  card: {
    display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, padding: tokens.spacingHorizontalM,
    border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: tokens.borderRadiusMedium, background: tokens.colorNeutralBackground1,
  },
  head: { display: 'flex', alignItems: 'baseline', gap: tokens.spacingHorizontalS, flexWrap: 'wrap' },
  subject: { overflowWrap: 'anywhere' },
  facts: { display: 'flex', flexWrap: 'wrap', columnGap: tokens.spacingHorizontalL, rowGap: tokens.spacingVerticalXXS, margin: 0 },
  fact: { display: 'flex', gap: tokens.spacingHorizontalXS, minWidth: 0 },
  term: { color: tokens.colorNeutralForeground3 },
  value: { margin: 0, overflowWrap: 'anywhere' },
  recipients: { listStyle: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS },
  recipient: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXXS },
  address: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalS, flexWrap: 'wrap', overflowWrap: 'anywhere' },
  reply: { fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase200, color: tokens.colorNeutralForeground2, overflowWrap: 'anywhere' },
  actions: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS },
});

interface QueueItemCardProps {
  item: QueueItem;
  now: number;
  onRetry(): void;
  onHeaders(): void;
  onDelete(): void;
}

export function QueueItemCard({ item, now, onRetry, onHeaders, onDelete }: QueueItemCardProps) {
  const styles = useStyles();
  const status = STATUS[item.status];
  const facts: [string, string][] = [
    ['From', item.from || '<> (a delivery report)'],
    ['Age', duration(now - item.created)],
    ['Attempts', String(item.attempts)],
    ['Next try', item.nextAttempt === null ? '—' : `${fromNow(item.nextAttempt, now)} (${localTime(item.nextAttempt, now)})`],
  ];
  return (
    <li className={styles.card} aria-label={item.subject || '(no subject)'}>
      <div className={styles.head}>
        <Text weight="semibold" className={styles.subject}>{item.subject || '(no subject)'}</Text>
        <Badge appearance="tint" color={status.color}>{status.label}</Badge>
      </div>
      <dl className={styles.facts}>
        {facts.map(([term, value]) => (
          <div key={term} className={styles.fact}>
            <dt className={styles.term}>{term}</dt>
            <dd className={styles.value}>{value}</dd>
          </div>
        ))}
      </dl>
      <ul className={styles.recipients} aria-label="Recipients">
        {item.recipients.map((r) => (
          <li key={r.address} className={styles.recipient}>
            <span className={styles.address}>
              <Text>To {r.address}</Text>
              <Badge appearance="outline" color={STATUS[r.status].color}>{STATUS[r.status].label}</Badge>
            </span>
            {r.lastReply && (
              <Text className={styles.reply}>
                {r.lastAttempt ? `${ago(r.lastAttempt, now)}: ` : ''}{r.lastReply}
              </Text>
            )}
          </li>
        ))}
      </ul>
      <div className={styles.actions}>
        <Button size="small" icon={<ArrowClockwiseRegular />} onClick={onRetry}>Retry now</Button>
        <Button size="small" icon={<DocumentTextRegular />} onClick={onHeaders}>View headers</Button>
        <Button size="small" icon={<DeleteRegular />} onClick={onDelete}>Delete…</Button>
      </div>
    </li>
  );
}
