// Follows one test message through the real queue until it is delivered or refused: its queue entry
// while it waits (attempts, the last reply, the next try), then the log's delivery line once it left.
import { useEffect, useState } from 'react';
import type { QueueItem } from '../../../src/api/contract.js';
import { errorText } from '../../format.js';
import { useRelayStatus } from '../../hooks/use-relay-status.js';
import { sentLine } from '../log/log-line.js';

export type TestMessageState =
  | { phase: 'waiting'; item: QueueItem | null }
  | { phase: 'delivered'; reply: string; relay: string | null; at: number | null }
  | { phase: 'failed'; item: QueueItem }
  | { phase: 'gone' }
  | { phase: 'error'; message: string };

const POLL_MS = 1000;

export function useTestMessage(id: string | null): TestMessageState | null {
  const { status } = useRelayStatus();
  const [state, setState] = useState<TestMessageState | null>(null);
  const finished = state !== null && state.phase !== 'waiting';

  useEffect(() => {
    setState(id ? { phase: 'waiting', item: null } : null);
  }, [id]);

  useEffect(() => {
    if (!id || finished) return;
    let live = true;
    const look = async () => {
      const next = await follow(id);
      if (live) setState(next);
    };
    void look();
    const timer = setInterval(() => void look(), POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [id, finished, status]);

  return state;
}

async function follow(id: string): Promise<TestMessageState> {
  try {
    const item = await window.relay.getMessage(id);
    return item.status === 'failed' ? { phase: 'failed', item } : { phase: 'waiting', item };
  } catch (e) {
    // Not in the queue (any more): the log says whether it was delivered.
    try {
      const sent = sentLine(await window.relay.getLog({ contains: `id=${id} `, limit: 50 }), id);
      if (sent) return { phase: 'delivered', ...sent };
      return /no message .* in the queue/.test(errorText(e)) ? { phase: 'gone' } : { phase: 'error', message: errorText(e) };
    } catch (logError) {
      return { phase: 'error', message: errorText(logError) };
    }
  }
}
