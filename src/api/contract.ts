// RelayApi: the one contract between the relay and everything that shows or drives it (tray, settings
// window over IPC, CLI over the control socket, the browser tests' HTTP bridge). Every transport
// validates incoming calls with `methodArgs` before they reach the relay.
import { z } from 'zod';
import type { Config, ConfigInput } from '../config/schema.js';

export type RelayState = 'running' | 'paused' | 'auth-failed' | 'unconfigured' | 'stopped';

export interface RelayStatus {
  state: RelayState;
  /** Messages still waiting for delivery: the tray's number. */
  queued: number;
  /** Of those, the ones that have had a failed attempt. */
  deferred: number;
  /** Messages kept after a permanent failure. */
  failed: number;
  /** Spool entries moved aside to corrupt/ because they could not be read. */
  corrupt: number;
  /** Deliveries in progress right now. */
  sending: number;
  oldestQueuedSeconds: number | null;
  lastError: string | null;
  lastDelivery: { id: string; to: string; status: 'sent' | 'deferred' | 'bounced'; at: number; reply: string } | null;
  /** "127.0.0.1:25" while the listener is up. */
  listening: string | null;
}

export type RecipientStatus = 'queued' | 'deferred' | 'sent' | 'failed';

export interface RecipientView {
  address: string;
  status: RecipientStatus;
  attempts: number;
  /** When the next attempt is due (ms since epoch), for waiting recipients. */
  nextAttempt: number | null;
  lastAttempt: number | null;
  /** The last reply, e.g. "450 4.2.1 Mailbox busy". */
  lastReply: string | null;
  relay: string | null;
}

export interface QueueItem {
  id: string;
  status: 'queued' | 'deferred' | 'failed';
  from: string;
  subject: string;
  size: number;
  created: number;
  attempts: number;
  nextAttempt: number | null;
  recipients: RecipientView[];
}

export interface MessageDetail extends QueueItem {
  /** The header section as stored (with our Received header), for "view headers". */
  headers: string;
}

export interface TestConnectionResult {
  ok: boolean;
  /** What was tried, e.g. "smtp.office365.com:587 (STARTTLS required, AUTH as jts@contoso.com)". */
  target: string;
  message: string;
}

export interface RelayApi {
  getStatus(): Promise<RelayStatus>;
  listQueue(page?: { offset?: number; limit?: number }): Promise<{ items: QueueItem[]; total: number }>;
  getMessage(id: string): Promise<MessageDetail>;
  /** Makes a waiting message due now; for a failed one, queues its failed recipients again. */
  retry(id: string): Promise<void>;
  /** Makes every waiting message due now (failed ones stay failed) and lifts a pause after an auth failure. */
  retryAll(): Promise<number>;
  deleteMessage(id: string): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  getConfig(): Promise<Config>;
  /** Validates and saves; a bad config is refused with the field named and nothing is changed. */
  setConfig(config: ConfigInput): Promise<Config>;
  /** Stores the smarthost password in the OS keychain (never in config.json). */
  setPassword(password: string): Promise<void>;
  deletePassword(): Promise<boolean>;
  testConnection(): Promise<TestConnectionResult>;
  /** Queues a test message to `to` through the full path; returns its queue id. */
  sendTest(to: string): Promise<{ id: string }>;
  /** Status pushed whenever it changes; returns an unsubscribe function. */
  onStatus(listener: (status: RelayStatus) => void): () => void;
}

const id = z.string().regex(/^[0-9a-z]{16}$/, { error: 'is not a queue id' });
const email = z.string().max(320).regex(/^[^\s<>@]+@[^\s<>@]+$/, { error: 'is not an e-mail address' });

/** Argument schemas of every callable method (onStatus is an event, not a call). */
export const methodArgs = {
  getStatus: z.tuple([]),
  listQueue: z.union([z.tuple([]), z.tuple([z.object({ offset: z.number().int().min(0).optional(), limit: z.number().int().min(1).max(1000).optional() })])]),
  getMessage: z.tuple([id]),
  retry: z.tuple([id]),
  retryAll: z.tuple([]),
  deleteMessage: z.tuple([id]),
  pause: z.tuple([]),
  resume: z.tuple([]),
  getConfig: z.tuple([]),
  setConfig: z.tuple([z.record(z.string(), z.unknown())]),
  setPassword: z.tuple([z.string().min(1).max(4096)]),
  deletePassword: z.tuple([]),
  testConnection: z.tuple([]),
  sendTest: z.tuple([email]),
} satisfies Record<Exclude<keyof RelayApi, 'onStatus'>, z.ZodType>;

export type RelayMethod = keyof typeof methodArgs;

export function isRelayMethod(name: unknown): name is RelayMethod {
  return typeof name === 'string' && Object.hasOwn(methodArgs, name);
}

/** Errors that cross a transport keep a machine-readable kind so the UI/CLI can react (e.g. name a field). */
export class RelayError extends Error {
  constructor(readonly kind: 'not-found' | 'invalid' | 'busy' | 'unavailable' | 'internal', message: string) {
    super(message);
    this.name = 'RelayError';
  }
}
