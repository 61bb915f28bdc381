// One status subscription for the whole window: the header, the queue and the test-message progress
// all follow the same RelayStatus.
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import type { RelayStatus } from '../../src/api/contract.js';
import { errorText } from '../format.js';

interface StatusValue {
  status: RelayStatus | null;
  error: string | null;
}

const StatusContext = createContext<StatusValue>({ status: null, error: null });

/** Status events arrive only on changes; the age of waiting mail grows without one, so re-read it now and then (as the tray does). */
const REFRESH_MS = 30_000;

export function RelayStatusProvider({ children }: { children: ReactNode }) {
  const [value, setValue] = useState<StatusValue>({ status: null, error: null });
  useEffect(() => {
    let live = true;
    const read = () => window.relay.getStatus().then(
      (status) => { if (live && status) setValue({ status, error: null }); },
      (e: unknown) => { if (live) setValue((v) => ({ ...v, error: errorText(e) })); },
    );
    const unsubscribe = window.relay.onStatus((status) => { if (live) setValue({ status, error: null }); });
    void read();
    const timer = setInterval(() => void read(), REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
      unsubscribe();
    };
  }, []);
  return <StatusContext.Provider value={value}>{children}</StatusContext.Provider>;
}

export function useRelayStatus(): StatusValue {
  return useContext(StatusContext);
}
