// Queue: every message still waiting or kept after a failure, one dense row each, sorted, filtered,
// searched and paged by the relay (the page never holds more than one page of rows). Failed and
// deferred come first unless another order is chosen, so they never hide behind waiting mail.
import { Button, makeStyles, SearchBox, Select, Text, tokens } from '@fluentui/react-components';
import { ArrowClockwiseRegular, ArrowSyncRegular, DeleteRegular } from '@fluentui/react-icons';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { QueueItem, QueueList, QueueQuery } from '../../../src/api/contract.js';
import { AdviceBar } from '../../components/AdviceBar.js';
import { Page } from '../../components/Page.js';
import { errorText, plural } from '../../format.js';
import { useNow } from '../../hooks/use-now.js';
import { useRelayStatus } from '../../hooks/use-relay-status.js';
import { DeleteDialog, HeadersDialog } from './MessageDialogs.js';
import { QueueTable } from './QueueTable.js';

const PAGE = 100;
const SEARCH_DELAY_MS = 300;
/** Re-reading the queue costs the relay a pass over its queue index: at most a tenth of the time, yet never staler than MAX_GAP_MS. */
const MIN_GAP_MS = 2000;
const MAX_GAP_MS = 10_000;

/** A row's log button: the Log page, searched for the message's queue id. */
function openLog(item: QueueItem): void {
  location.hash = `#/log?find=${encodeURIComponent(`id=${item.id}`)}`;
}

const ORDERS: Record<string, Pick<QueueQuery, 'sort' | 'order'> & { label: string }> = {
  status: { label: 'Problems first', sort: 'status', order: 'asc' },
  oldest: { label: 'Oldest first', sort: 'age', order: 'asc' },
  newest: { label: 'Newest first', sort: 'age', order: 'desc' },
  recipient: { label: 'Recipient (A–Z)', sort: 'recipient', order: 'asc' },
};

const useStyles = makeStyles({
  bar: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: tokens.spacingHorizontalS },
  search: { flex: '1 1 14rem', maxWidth: '26rem' },
  pager: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: tokens.spacingHorizontalS },
});

export function QueuePage({ active }: { active: boolean }) {
  const styles = useStyles();
  const { status } = useRelayStatus();
  const now = useNow(5_000);
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState<QueueQuery>({ filter: 'all', sort: 'status', order: 'asc', offset: 0, limit: PAGE });
  const [order, setOrder] = useState('status');
  const [queue, setQueue] = useState<QueueList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [headersOf, setHeadersOf] = useState<QueueItem | null>(null);
  const [deleting, setDeleting] = useState<string[] | null>(null);
  const gap = useRef({ last: 0, took: 0, reading: false });

  const refresh = useCallback(async () => {
    const started = Date.now();
    gap.current.reading = true;
    try {
      const q = await window.relay.listQueue(query);
      if (!q || !Array.isArray(q.items)) throw new Error('the relay sent no queue');
      setQueue(q);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    } finally {
      gap.current = { last: Date.now(), took: Date.now() - started, reading: false };
    }
  }, [query]);

  // The search goes to the relay a moment after typing stops.
  useEffect(() => {
    const timer = setTimeout(() => setQuery((q) => (q.search === search.trim() ? q : { ...q, search: search.trim(), offset: 0 })), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [search]);

  // Every status event means the queue may have changed: read it again while the page is shown, spaced
  // so that a long queue (a slow read) is read less often; a new query, or the page being opened, is read
  // at once. The first page is read once when the window opens too, so opening the page shows rows at once.
  const last = useRef({ query, active });
  useEffect(() => {
    if (!active && (queue || gap.current.reading)) return;
    const changed = last.current.query !== query || last.current.active !== active;
    last.current = { query, active };
    const wait = changed ? 0 : Math.max(0, gap.current.last + Math.min(MAX_GAP_MS, Math.max(MIN_GAP_MS, 10 * gap.current.took)) - Date.now());
    const timer = setTimeout(() => void refresh(), wait);
    return () => clearTimeout(timer);
  }, [active, status, refresh, query, queue]);

  const act = (action: () => Promise<string | void>) => {
    setNote('');
    void action().then((text) => { if (text) setNote(text); return refresh(); }, (e: unknown) => setError(errorText(e)));
  };

  const bulk = (kind: 'retry' | 'delete', ids: string[]) => act(async () => {
    const r = await window.relay.bulk(kind, ids);
    setSelected(new Set());
    const verb = kind === 'retry' ? 'will be tried now' : 'deleted';
    return `${plural(r.done, 'message')} ${verb}.${r.problems.length ? ` Not done: ${r.problems.map((p) => p.message).join('; ')}` : ''}`;
  });

  // Stable, so the table's rows (memoised) are not all drawn again when the page is shown or hidden.
  const select = useCallback((ids: string[], on: boolean) => setSelected((prev) => {
    const next = new Set(prev);
    for (const id of ids) if (on) next.add(id); else next.delete(id);
    return next;
  }), []);

  const offset = query.offset ?? 0;
  const matched = queue?.matched ?? 0;
  const page = (to: number) => setQuery((q) => ({ ...q, offset: Math.max(0, to) }));

  return (
    <Page title="Queue" description="Messages waiting for delivery, and those kept after the server refused them. Problems come first; search by recipient, sender, subject, queue id or Message-ID.">
      <div className={styles.bar}>
        <SearchBox className={styles.search} aria-label="Search the queue" placeholder="Recipient, sender, subject, queue id, Message-ID" value={search} onChange={(_, d) => setSearch(d.value)} />
        <Select aria-label="Show" value={query.filter} onChange={(_, d) => setQuery((q) => ({ ...q, filter: d.value as QueueQuery['filter'], offset: 0 }))}>
          <option value="all">All messages</option>
          <option value="problems">Failed and deferred</option>
          <option value="failed">Failed</option>
          <option value="deferred">Deferred (will retry)</option>
          <option value="waiting">Waiting (not tried yet)</option>
        </Select>
        <Select aria-label="Order" value={order} onChange={(_, d) => {
          setOrder(d.value);
          const { sort, order: dir } = ORDERS[d.value] ?? ORDERS.status!;
          setQuery((q) => ({ ...q, sort, order: dir, offset: 0 }));
        }}>
          {Object.entries(ORDERS).map(([key, o]) => <option key={key} value={key}>{o.label}</option>)}
        </Select>
      </div>
      <div className={styles.bar}>
        <Button icon={<ArrowClockwiseRegular />} disabled={selected.size === 0} onClick={() => bulk('retry', [...selected])}>Retry selected</Button>
        <Button icon={<DeleteRegular />} disabled={selected.size === 0} onClick={() => setDeleting([...selected])}>Delete selected…</Button>
        <Button icon={<ArrowSyncRegular />} disabled={!queue?.total} onClick={() => act(async () => `${plural(await window.relay.retryAll(), 'message')} will be tried now.`)}>Retry all now</Button>
        <Text role="status">{note}</Text>
      </div>
      <div className={styles.pager}>
        <Text data-testid="queue-summary">
          {!queue ? 'Reading the queue…' : queue.total === 0 ? 'Nothing is waiting.'
            : `${plural(queue.total, 'message')} in the queue${matched !== queue.total ? `, ${matched} matching` : ''}${matched ? `; showing ${offset + 1}–${offset + queue.items.length}` : ''}.`}
        </Text>
        <Button size="small" disabled={offset === 0} onClick={() => page(offset - PAGE)}>Previous</Button>
        <Button size="small" disabled={offset + PAGE >= matched} onClick={() => page(offset + PAGE)}>Next</Button>
      </div>
      {error && <AdviceBar title="That did not work" message={error} />}
      {queue && queue.items.length > 0 && (
        <QueueTable
          items={queue.items}
          now={now}
          selected={selected}
          onSelect={select}
          onHeaders={setHeadersOf}
          onLog={openLog}
        />
      )}
      {queue && queue.total > 0 && matched === 0 && <Text>No message matches.</Text>}
      <HeadersDialog item={headersOf} onClose={() => setHeadersOf(null)} />
      <DeleteDialog count={deleting?.length ?? 0} onCancel={() => setDeleting(null)} onConfirm={() => {
        const ids = deleting ?? [];
        setDeleting(null);
        bulk('delete', ids);
      }} />
    </Page>
  );
}
