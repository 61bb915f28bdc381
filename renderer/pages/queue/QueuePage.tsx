// Queue: every message still waiting or kept after a failure, updated as the relay reports changes.
import { Button, makeStyles, Text, tokens } from '@fluentui/react-components';
import { ArrowSyncRegular } from '@fluentui/react-icons';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { QueueItem } from '../../../src/api/contract.js';
import { AdviceBar } from '../../components/AdviceBar.js';
import { Page } from '../../components/Page.js';
import { errorText, plural } from '../../format.js';
import { useNow } from '../../hooks/use-now.js';
import { useRelayStatus } from '../../hooks/use-relay-status.js';
import { DeleteDialog, HeadersDialog } from './MessageDialogs.js';
import { QueueItemCard } from './QueueItemCard.js';

/** More would make a long page; the count says how many there are. */
const SHOWN = 200;
/** During a busy spell status events come every 100 ms; reading 200 queue entries that often is waste. */
const MIN_GAP_MS = 1000;

const useStyles = makeStyles({
  bar: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: tokens.spacingHorizontalM },
  list: { listStyle: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
});

export function QueuePage({ active }: { active: boolean }) {
  const styles = useStyles();
  const { status } = useRelayStatus();
  const now = useNow(15_000);
  const [queue, setQueue] = useState<{ items: QueueItem[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [headersOf, setHeadersOf] = useState<QueueItem | null>(null);
  const [deleting, setDeleting] = useState<QueueItem | null>(null);
  const lastRead = useRef(0);

  const refresh = useCallback(async () => {
    try {
      const q = await window.relay.listQueue({ limit: SHOWN });
      if (!q || !Array.isArray(q.items)) throw new Error('the relay sent no queue');
      setQueue(q);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, []);

  // Every status event means the queue may have changed: read it again while the page is shown, at most
  // once a second (a burst of events keeps moving the timer to the same moment, so it fires once).
  useEffect(() => {
    if (!active) return;
    const timer = setTimeout(() => {
      lastRead.current = Date.now();
      void refresh();
    }, Math.max(0, lastRead.current + MIN_GAP_MS - Date.now()));
    return () => clearTimeout(timer);
  }, [active, status, refresh]);

  const act = (action: () => Promise<unknown>) => {
    void action().then(() => refresh(), (e: unknown) => setError(errorText(e)));
  };

  const confirmDelete = () => {
    const item = deleting;
    setDeleting(null);
    if (item) act(() => window.relay.deleteMessage(item.id));
  };

  return (
    <Page title="Queue" description="Messages waiting for delivery, and those kept after the server refused them, with the server's last reply for each recipient.">
      <div className={styles.bar}>
        <Text>{queue ? (queue.total === 0 ? 'Nothing is waiting.' : `${plural(queue.total, 'message')}${queue.total > queue.items.length ? `, the first ${queue.items.length} shown` : ''}.`) : 'Reading the queue…'}</Text>
        <Button icon={<ArrowSyncRegular />} disabled={!queue?.total} onClick={() => act(() => window.relay.retryAll())}>Retry all now</Button>
      </div>
      {error && <AdviceBar title="That did not work" message={error} />}
      {queue && queue.items.length > 0 && (
        <ul className={styles.list} aria-label="Messages in the queue">
          {queue.items.map((item) => (
            <QueueItemCard
              key={item.id}
              item={item}
              now={now}
              onRetry={() => act(() => window.relay.retry(item.id))}
              onHeaders={() => setHeadersOf(item)}
              onDelete={() => setDeleting(item)}
            />
          ))}
        </ul>
      )}
      <HeadersDialog item={headersOf} onClose={() => setHeadersOf(null)} />
      <DeleteDialog item={deleting} onCancel={() => setDeleting(null)} onConfirm={confirmDelete} />
    </Page>
  );
}
