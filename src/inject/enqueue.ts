// Mail the relay writes itself (a bounce, a test message) enters the spool the way received mail does:
// written, committed, or aborted so that nothing half-written stays behind.
import type { NewMessage, Spool } from '../spool/spool.js';

export interface Composed {
  text: string;
  envelope: NewMessage;
}

/** Queues what `compose` makes for the new message's id; returns the id and the size written. */
export async function enqueue(spool: Spool, compose: (id: string) => Composed): Promise<{ id: string; size: number }> {
  const ingest = await spool.beginIngest();
  try {
    const { text, envelope } = compose(ingest.id);
    const data = Buffer.from(text);
    await ingest.write(data);
    await ingest.commit(envelope);
    return { id: ingest.id, size: data.length };
  } catch (e) {
    await ingest.abort();
    throw e;
  }
}
