// The page shown is the URL's hash (#/queue), which is how the tray opens the window on a page; a
// hash change keeps the page loaded, so unsaved input survives. "#/log?find=TEXT" opens the log searched.
import { useCallback, useEffect, useState } from 'react';

export const PAGE_IDS = ['smarthost', 'send-test', 'listener', 'queue', 'log'] as const;
export type PageId = (typeof PAGE_IDS)[number];

/** The tray asks for "#/settings"; that is the Smarthost page. */
function pageFromHash(hash: string): PageId {
  const name = hash.replace(/^#\/?/, '').replace(/\?.*$/, '');
  return (PAGE_IDS as readonly string[]).includes(name) ? (name as PageId) : 'smarthost';
}

export function usePage(): [PageId, (page: PageId) => void] {
  const [page, setPage] = useState(() => pageFromHash(location.hash));
  useEffect(() => {
    const onChange = () => setPage(pageFromHash(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  const go = useCallback((next: PageId) => {
    location.hash = `#/${next}`;
  }, []);
  return [page, go];
}

/** What "#/log?find=TEXT" asks the page to search for, or null. */
export function findFromHash(hash: string): string | null {
  const query = /\?(.*)$/.exec(hash)?.[1];
  return query ? new URLSearchParams(query).get('find') : null;
}
