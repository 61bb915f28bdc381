// The list of pages on the left (across the top in a narrow window, as at 200 % zoom); arrow keys move
// between them. The selected page's tab is kept in view when the row is wider than the window, and the
// row itself when the window scrolls.
import { CounterBadge, makeStyles, mergeClasses, Tab, TabList, tokens } from '@fluentui/react-components';
import { DocumentTextRegular, MailInboxRegular, PlugConnectedRegular, SendRegular, ServerRegular } from '@fluentui/react-icons';
import { useEffect, useRef, type ReactElement } from 'react';
import type { PageId } from '../hooks/use-page.js';
import { useRelayStatus } from '../hooks/use-relay-status.js';

export const PAGES: { id: PageId; label: string; icon: ReactElement }[] = [
  { id: 'smarthost', label: 'Smarthost', icon: <ServerRegular /> },
  { id: 'send-test', label: 'Send test message', icon: <SendRegular /> },
  { id: 'listener', label: 'Listener', icon: <PlugConnectedRegular /> },
  { id: 'queue', label: 'Queue', icon: <MailInboxRegular /> },
  { id: 'log', label: 'Log', icon: <DocumentTextRegular /> },
];

const useStyles = makeStyles({
  nav: {
    flex: 'none', width: '12rem', padding: `${tokens.spacingVerticalM} ${tokens.spacingHorizontalS}`, overflowY: 'auto',
    borderRight: `1px solid ${tokens.colorNeutralStroke2}`,
    '@media (max-width: 560px)': {
      width: 'auto', overflowX: 'auto', borderRight: 'none', borderBottom: `1px solid ${tokens.colorNeutralStroke2}`, padding: tokens.spacingVerticalXS,
      // When the whole window scrolls (200 % zoom on 800×600), the row stays at the top: the page shown stays named and a click away.
      position: 'sticky', top: 0, zIndex: 1, backgroundColor: tokens.colorNeutralBackground1,
    },
  },
  badge: { marginInlineStart: tokens.spacingHorizontalS },
  // Red means some mail is not getting through; in forced colours, where red is gone, a thick border says it.
  problem: { '@media (forced-colors: active)': { border: '2px solid CanvasText' } },
});

export function PageNav({ page, onSelect, vertical }: { page: PageId; onSelect(page: PageId): void; vertical: boolean }) {
  const styles = useStyles();
  const { status } = useRelayStatus();
  const nav = useRef<HTMLElement>(null);
  useEffect(() => {
    // Scrolls the nav strip alone ('nearest'), so a tab chosen at the row's end is not left cut off.
    // By page id: Fluent marks the tab aria-selected a render later than this effect runs.
    nav.current?.querySelector(`[data-page="${page}"]`)?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }, [page, vertical]);
  return (
    <nav ref={nav} className={styles.nav} aria-label="Pages">
      <TabList vertical={vertical} selectedValue={page} onTabSelect={(_, d) => onSelect(d.value as PageId)}>
        {PAGES.map((p) => (
          <Tab key={p.id} value={p.id} icon={p.icon} data-page={p.id}>
            {p.label}
            {p.id === 'queue' && status && status.queued + status.failed > 0 && (
              <CounterBadge
                className={mergeClasses(styles.badge, (status.failed || status.deferred) > 0 && styles.problem)} size="small" color={status.failed || status.deferred ? 'danger' : 'informative'}
                count={status.queued + status.failed} aria-label={`${status.queued + status.failed} in the queue${status.failed || status.deferred ? ', some not delivered' : ''}`}
              />
            )}
          </Tab>
        ))}
      </TabList>
    </nav>
  );
}
