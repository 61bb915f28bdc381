// What the queue manager hands a transport (smarthost.ts, mx.ts) and what it expects of one.
import type { Waiting } from './conversation.js';
import type { AttemptOutcome } from './outcome.js';

export interface Envelope {
  /** '' for the null sender: MAIL FROM:<> (bounces). */
  from: string;
  to: string[];
  /** 8-bit content: sent with BODY=8BITMIME, and only to a server that offers it (extensions.ts). */
  eightBit?: boolean;
  /** The client asked for SMTPUTF8: sent only to a server that offers it. */
  smtputf8?: boolean;
}

/** One attempt's message: the envelope and the spooled content, sent as is. */
export interface OutgoingMessage {
  envelope: Envelope;
  /** The spooled message (RFC 5322 bytes). */
  contentPath: string;
  /** Its size, for SIZE= (RFC 1870) when the content goes unchanged. */
  size?: number;
  /** Sender rewriting: rewrites the header section on the way out. */
  rewriteHeaders?: (section: string) => string;
}

export interface DeliveryTransport {
  /** One attempt for every recipient of `message.envelope`. */
  send(message: OutgoingMessage): Promise<AttemptOutcome>;
  /** Connects and authenticates without sending; rejects with the server's reply. */
  verify(): Promise<void>;
  /** Lets deliveries in flight finish, unless `force`: then they end now (as deferred). */
  close(force?: boolean): void | Promise<void>;
  /** Deliveries in progress: where each waits for the server, and since when. */
  waiting?(): Waiting[];
}

/** Why delivery is not running, when it is not: shown as the relay's state and last error. */
export interface Blocked {
  state: 'paused' | 'auth-failed' | 'unconfigured';
  reason: string;
}
