// The settings window: status on top, the pages on the left, the page on the right. Every page stays
// mounted while another is shown, so unsaved input survives switching pages.
import { FluentProvider, makeStaticStyles, makeStyles, tokens, webDarkTheme, webLightTheme } from '@fluentui/react-components';
import { useEffect, useState, type ReactElement } from 'react';
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
  body: { flex: '1 1 0', minHeight: 0, display: 'flex', '@media (max-width: 560px)': { flexDirection: 'column' } },
  main: {
    flex: '1 1 0', minWidth: 0, minHeight: 0, overflow: 'auto', padding: `${tokens.spacingVerticalL} ${tokens.spacingHorizontalXL}`,
    '@media (max-width: 560px)': { padding: tokens.spacingHorizontalM },
    '@media (max-height: 420px)': { overflow: 'visible' },
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

function pageContent(id: PageId, active: boolean): ReactElement {
  switch (id) {
    case 'smarthost': return <SmarthostPage />;
    case 'send-test': return <SendTestPage active={active} />;
    case 'listener': return <ListenerPage />;
    case 'queue': return <QueuePage active={active} />;
    case 'log': return <LogPage active={active} />;
  }
}

export function App() {
  useGlobalStyles();
  const styles = useStyles();
  const [page, go] = usePage();
  const dark = useMedia('(prefers-color-scheme: dark)');
  const narrow = useMedia(NARROW);
  return (
    <FluentProvider theme={dark ? webDarkTheme : webLightTheme} className={styles.root}>
      <RelayStatusProvider>
        <StatusHeader go={go} />
        <ReadOnlyBanner />
        <div className={styles.body}>
          <PageNav page={page} onSelect={go} vertical={!narrow} />
          <main className={styles.main}>
            {PAGES.map((p) => (
              <div key={p.id} hidden={p.id !== page}>{pageContent(p.id, p.id === page)}</div>
            ))}
          </main>
        </div>
      </RelayStatusProvider>
    </FluentProvider>
  );
}
