// The settings window: status on top, the pages on the left, the page on the right. Every page stays
// mounted while another is shown, so unsaved input survives switching pages.
import { FluentProvider, makeStaticStyles, makeStyles, tokens, webDarkTheme, webLightTheme } from '@fluentui/react-components';
import { memo, useEffect, useRef, useState, type ReactElement, type RefObject } from 'react';
import { PageNav, PAGES } from './components/PageNav.js';
import { ReadOnlyBanner } from './components/ReadOnlyBanner.js';
import { StatusHeader } from './components/StatusHeader.js';
import { usePage, type PageId } from './hooks/use-page.js';
import { RelayStatusProvider } from './hooks/use-relay-status.js';
import { ListenerPage } from './pages/listener/ListenerPage.js';
import { LogPage } from './pages/log/LogPage.js';
import { QueuePage } from './pages/queue/QueuePage.js';
import { SendTestPage } from './pages/send-test/SendTestPage.js';
import { SmarthostPage } from './pages/smarthost/SmarthostPage.js';

const NARROW = '(max-width: 560px)';

const useGlobalStyles = makeStaticStyles({ body: { margin: 0 } });

const useStyles = makeStyles({
  // The page scrolls under a fixed header; in a very low window (or at a large zoom) the whole window scrolls instead.
  root: { height: '100vh', display: 'flex', flexDirection: 'column', minWidth: 0, '@media (max-height: 420px)': { height: 'auto' } },
  // When the whole window scrolls, the body takes its content's height (not 0): the page row's sticky range is the body.
  body: { flex: '1 1 0', minHeight: 0, display: 'flex', '@media (max-width: 560px)': { flexDirection: 'column' }, '@media (max-height: 420px)': { flex: 'none' } },
  main: {
    flex: '1 1 0', minWidth: 0, minHeight: 0, overflow: 'auto', padding: `${tokens.spacingVerticalL} ${tokens.spacingHorizontalXL}`,
    '@media (max-width: 560px)': { padding: tokens.spacingHorizontalM },
    '@media (max-height: 420px)': { overflow: 'visible', flex: 'none' },
  },
});

function useMedia(query: string): boolean {
  const [matches, setMatches] = useState(() => matchMedia(query).matches);
  useEffect(() => {
    const list = matchMedia(query);
    const onChange = () => setMatches(list.matches);
    list.addEventListener('change', onChange);
    return () => list.removeEventListener('change', onChange);
  }, [query]);
  return matches;
}

/**
 * In a window so low that the whole window scrolls (200 % zoom on 800×600), a page chosen while the
 * status header fills most of the screen would open out of sight: scroll to the page list and the page.
 */
function useBodyInSight(): [RefObject<HTMLDivElement | null>, () => void] {
  const body = useRef<HTMLDivElement>(null);
  // Counts the admin's choices; on opening (0) the status header comes first.
  const [chosen, setChosen] = useState(0);
  useEffect(() => {
    if (!chosen) return;
    const top = body.current?.getBoundingClientRect().top ?? 0;
    if (top > innerHeight / 2 && document.documentElement.scrollHeight > innerHeight) body.current?.scrollIntoView({ block: 'start' });
  }, [chosen]);
  return [body, () => setChosen((n) => n + 1)];
}

/** One page, re-rendered only when it is shown or hidden (not each time another page is chosen). */
const PageSlot = memo(function PageSlot({ id, active }: { id: PageId; active: boolean }): ReactElement {
  switch (id) {
    case 'smarthost': return <SmarthostPage />;
    case 'send-test': return <SendTestPage active={active} />;
    case 'listener': return <ListenerPage />;
    case 'queue': return <QueuePage active={active} />;
    case 'log': return <LogPage active={active} />;
  }
});

export function App() {
  useGlobalStyles();
  const styles = useStyles();
  const [page, go] = usePage();
  const dark = useMedia('(prefers-color-scheme: dark)');
  const narrow = useMedia(NARROW);
  const [body, chose] = useBodyInSight();
  return (
    <FluentProvider theme={dark ? webDarkTheme : webLightTheme} className={styles.root}>
      <RelayStatusProvider>
        <StatusHeader go={go} />
        <ReadOnlyBanner />
        <div ref={body} className={styles.body}>
          <PageNav page={page} onSelect={(p) => { go(p); chose(); }} vertical={!narrow} />
          <main className={styles.main}>
            {PAGES.map((p) => (
              <div key={p.id} hidden={p.id !== page}><PageSlot id={p.id} active={p.id === page} /></div>
            ))}
          </main>
        </div>
      </RelayStatusProvider>
    </FluentProvider>
  );
}
