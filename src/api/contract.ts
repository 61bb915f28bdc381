// RelayApi: the one contract between the relay and everything that shows or drives it (tray, settings
// window over IPC, CLI over the control socket, the browser tests' HTTP bridge). Every transport
// validates incoming calls with `methodArgs` before they reach the relay.
import { z } from 'zod';
import type { Config, ConfigInput } from '../config/schema.js';
import { MAILBOX } from '../mail/address.js';

export type HealthState =
  | 'not-set-up' | 'running' | 'sending' | 'smarthost-unreachable' | 'sign-in-failed'
  | 'mail-stuck' | 'disk-low' | 'paused' | 'stopped';

/** What fixes the state; each surface shows it as its own control (a button, a menu item, a hint). */
export type HealthAction = 'start' | 'set-up' | 'sign-in' | 'retry' | 'resume' | 'show-queue' | 'free-disk';

/** RelayStatus.health: what the relay's facts mean for mail (computed by src/health/model.ts). */
export interface Health {
  state: HealthState;
  /** "Smarthost unreachable": a short title. */
  title: string;
  /** Why, in words, naming the host and the server's reply when there is one. */
  cause: string;
  /** When the relay tries again on its own (ms since epoch); null when it will not without the action (or has nothing to do). */
  nextTry: number | null;
  action: { id: HealthAction; label: string } | null;
  /** Red: mail is not moving; amber: it may move late; green/blue: fine; grey: stopped. */
  severity: 'error' | 'warning' | 'ok' | 'stopped';
}

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
  /** What lastError means and what to do, when the catalogue knows it. */
  advice: Advice | null;
  lastDelivery: { id: string; to: string; status: 'sent' | 'deferred' | 'bounced'; at: number; reply: string } | null;
  /** "127.0.0.1:25" while the listener is up. */
  listening: string | null;
  /** Why config.json on disk is not in force (it does not validate): the last good config stays. */
  configError: string | null;
  /** Fingerprint of the config in force; pass it to setConfig to refuse a save based on an older one. */
  configRevision: string;
  /** Set by the tray app when this user may only look (a service, and not an administrator). */
  access?: 'read-only';
  /**
   * A delivery its server has kept waiting more than a minute (the longest such), or null: where
   * (destination "smtp.x:587"), in which phase of the SMTP conversation ('connect' | 'mail' | 'rcpt' |
   * 'data' | 'message' | 'end-of-data'), for how long, and that in words: "smtp.x:587 has not
   * answered for 4 min after the end of data". Each phase has its RFC 5321 limit, after which the
   * attempt ends and the message is retried.
   */
  stalled: { destination: string; phase: 'connect' | 'mail' | 'rcpt' | 'data' | 'message' | 'end-of-data'; sinceSeconds: number; message: string } | null;
  /** What it all means: one state, the cause in words, the next try and the one fixing action (src/health/model.ts). */
  health: Health;
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
  /** When the relay will really try it next: its own schedule, held back by the smarthost's backoff; null while delivery is paused or stopped. */
  nextAttempt: number | null;
  /** Why the next try is later than the message's own schedule says (or will not come on its own), e.g. "delivery is paused". */
  held: string | null;
  /** The Message-ID header, as received (without <>), when it had one. */
  messageId: string | null;
  recipients: RecipientView[];
}

/** Which queue messages to list. Sorted, filtered and searched by the relay, streaming the spool: memory stays flat. */
export interface QueueQuery {
  offset?: number;
  limit?: number;
  /** problems = failed and deferred; waiting = not tried yet. Default all. */
  filter?: 'all' | 'problems' | 'failed' | 'deferred' | 'waiting';
  /** Part of a recipient, the sender, the subject, the queue id or the Message-ID (any case). */
  search?: string;
  /** status (default): failed, then deferred, then waiting, each oldest first; age: oldest first; recipient: by the first recipient. */
  sort?: 'status' | 'age' | 'recipient';
  /** desc reverses the sort (newest first for age). */
  order?: 'asc' | 'desc';
}

export interface QueueList {
  items: QueueItem[];
  /** Every message in the queue (waiting and failed). */
  total: number;
  /** Those the filter and search match; the pages go up to this. */
  matched: number;
}

export interface MessageDetail extends QueueItem {
  /** The header section as stored (with our Received header), for "view headers". */
  headers: string;
}

/** Plain-language explanation of an error, from the catalogue in src/advice/catalogue.ts. */
export interface Advice {
  id: string;
  cause: string;
  fix: string;
}

export type StepName = 'dns' | 'tcp' | 'tls' | 'banner' | 'ehlo' | 'starttls' | 'auth';

export interface ConnectionStep {
  step: StepName;
  ok: boolean;
  /** How long the step took. */
  ms: number;
  /** What was found: addresses, extensions, TLS protocol and certificate, the login used. */
  detail: string;
  /** The server's exact reply, when the step had one. */
  reply?: string;
  /** The step did not take place (STARTTLS not offered, AUTH withheld without TLS); `detail` says why. */
  skipped?: true;
}

export interface TestConnectionResult {
  ok: boolean;
  /** What was tried, e.g. "smtp.office365.com:587 (STARTTLS required, certificate verified, AUTH as jts@contoso.com)". */
  target: string;
  steps: ConnectionStep[];
  failedStep: StepName | null;
  advice: Advice | null;
  /** One line: the outcome, or the failing step and its reply. */
  message: string;
  /** What works but is unsafe, in words: "the password crossed the network unencrypted". */
  warnings?: string[];
}

/** A config field the schema refuses, with its message: { field: "smarthost.port", message: "must be at most 65535" }. */
export interface ConfigIssue {
  field: string;
  message: string;
}

/**
 * Which delivery-log lines to return: those containing `contains` (any case), newest first, at most `limit`
 * (default 500). `before` (an ISO time) pages back: only lines logged at or before it (the caller drops those it has).
 * A search reads the whole log, the rotated files too.
 */
export interface LogQuery {
  contains?: string;
  limit?: number;
  before?: string;
}

/** OAuth2 secrets other than the client secret (which is stored like the password, with setPassword). */
export type OAuthSecretKind = 'certificate' | 'service-account' | 'refresh-token';

/** What the settings window may know about the OAuth2 set-up: which secrets are stored, never the secrets. */
export interface OAuthStatus {
  /** null when smarthost.auth.method is not an OAuth2 method. */
  method: 'oauth2-microsoft' | 'oauth2-google' | null;
  /** smarthost.auth.credential with "auto" resolved. */
  credential: 'client-secret' | 'certificate' | 'service-account' | 'installed-app' | null;
  /** Each secret the credential needs: its keychain account, whether it is stored, and what it is (no secret). */
  secrets: { kind: 'client-secret' | OAuthSecretKind; account: string | null; stored: boolean; detail: string | null }[];
  /** The set-up steps at Microsoft or Google, with the configured IDs filled in. */
  checklist: string[];
}

/** What the settings window may know about the smarthost password: whether one is stored, never the password itself. */
export interface PasswordStatus {
  /** The keychain account ("username@host"), or null while smarthost.host or auth.username is empty. */
  account: string | null;
  stored: boolean;
  /** Where it comes from; SMTP_RELAY_SMARTHOST_PASSWORD ("env") overrides the keychain. */
  source: 'keychain' | 'env' | null;
}

/** How mail to one address would travel, without sending anything (like `sendmail -bv`). */
export interface RouteInfo {
  recipient: string;
  /** The envelope sender before and after sender rewriting, when one was given. */
  sender: { original: string; rewritten: string } | null;
  mode: 'smarthost' | 'mx';
  /** Where it would go, in the order tried: "smtp.office365.com[52.96.91.34]:587", or MX hosts. */
  destinations: string[];
  /** e.g. "STARTTLS required, certificate verified". */
  tls: string;
  /** e.g. "password as jts@contoso.com (LOGIN preferred)", or "none". */
  auth: string;
  /** Set when the route cannot be used as configured (no smarthost, no MX for the domain …). */
  problem: string | null;
}

export interface RelayApi {
  getStatus(): Promise<RelayStatus>;
  listQueue(query?: QueueQuery): Promise<QueueList>;
  getMessage(id: string): Promise<MessageDetail>;
  /** Makes a waiting message due now; for a failed one, queues its failed recipients again. */
  retry(id: string): Promise<void>;
  /** Makes every waiting message due now (failed ones stay failed) and lifts a pause after an auth failure. */
  retryAll(): Promise<number>;
  /** retry or deleteMessage for each of `ids`; says which could not be done and why (being delivered, gone). */
  bulk(action: 'retry' | 'delete', ids: string[]): Promise<{ done: number; problems: { id: string; message: string }[] }>;
  deleteMessage(id: string): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  getConfig(): Promise<Config>;
  /** Validates and saves; a bad config is refused with the field named and nothing is changed. */
  setConfig(config: ConfigInput, baseRevision?: string): Promise<Config>;
  /** Stores the smarthost password in the OS keychain (never in config.json). */
  setPassword(password: string): Promise<void>;
  deletePassword(): Promise<boolean>;
  /** Whether a password is stored: all the UI ever learns about it. */
  getPasswordStatus(): Promise<PasswordStatus>;
  testConnection(): Promise<TestConnectionResult>;
  /** Queues a test message to `to` through the full path; returns its queue id. */
  sendTest(to: string): Promise<{ id: string }>;
  /** How mail to `address` (from `from`, if given) would travel; sends nothing. */
  route(address: string, from?: string): Promise<RouteInfo>;
  /** What sender rewriting makes of an address ('' stays ''). */
  previewRewrite(address: string): Promise<string>;
  getOAuthStatus(): Promise<OAuthStatus>;
  /** Checks and stores a certificate (PEM with key), a service-account JSON key, or a refresh token in the keychain. */
  setOAuthSecret(kind: OAuthSecretKind, value: string): Promise<OAuthStatus>;
  deleteOAuthSecret(kind: OAuthSecretKind): Promise<boolean>;
  /** Google installed app: opens the system browser to sign in once and stores the refresh token. */
  oauthLogin(): Promise<OAuthStatus>;
  /** Status pushed whenever it changes; returns an unsubscribe function. */
  onStatus(listener: (status: RelayStatus) => void): () => void;
  /** Each testConnection step as it ends, for live display; returns an unsubscribe function. */
  onTestStep(listener: (step: ConnectionStep) => void): () => void;
  /** What the schema says about a config, without saving it: [] when it would be accepted. */
  validateConfig(config: ConfigInput): Promise<ConfigIssue[]>;
  /** Recent delivery-log lines, newest first (from memory, then the end of relay.log). */
  getLog(query?: LogQuery): Promise<string[]>;
  /** Tray app only: starts the app again elevated (Windows UAC) and quits this one, for a read-only user. */
  reopenAsAdministrator(): Promise<void>;
}

const id = z.string().regex(/^[0-9a-z]{16}$/, { error: 'is not a queue id' });
const oauthSecretKind = z.enum(['certificate', 'service-account', 'refresh-token']);
const email = z.string().max(320).regex(MAILBOX, { error: 'is not an e-mail address' });

/** Argument schemas of every callable method (onStatus and onTestStep are events, not calls). */
export const methodArgs = {
  getStatus: z.tuple([]),
  reopenAsAdministrator: z.tuple([]),
  listQueue: z.union([z.tuple([]), z.tuple([z.strictObject({
    offset: z.number().int().min(0).max(100_000).optional(), limit: z.number().int().min(1).max(1000).optional(),
    filter: z.enum(['all', 'problems', 'failed', 'deferred', 'waiting']).optional(), search: z.string().max(200).optional(),
    sort: z.enum(['status', 'age', 'recipient']).optional(), order: z.enum(['asc', 'desc']).optional(),
  })])]),
  getMessage: z.tuple([id]),
  retry: z.tuple([id]),
  retryAll: z.tuple([]),
  bulk: z.tuple([z.enum(['retry', 'delete']), z.array(id).min(1).max(1000)]),
  deleteMessage: z.tuple([id]),
  pause: z.tuple([]),
  resume: z.tuple([]),
  getConfig: z.tuple([]),
  setConfig: z.tuple([z.record(z.string(), z.unknown()), z.string().regex(/^[0-9a-f]{16}$/, { error: 'is not a config revision' }).optional()]),
  setPassword: z.tuple([z.string().min(1).max(4096)]),
  deletePassword: z.tuple([]),
  getPasswordStatus: z.tuple([]),
  testConnection: z.tuple([]),
  sendTest: z.tuple([email]),
  route: z.union([z.tuple([email]), z.tuple([email, z.union([email, z.literal('')])])]),
  previewRewrite: z.tuple([z.union([email, z.literal('')])]),
  getOAuthStatus: z.tuple([]),
  setOAuthSecret: z.tuple([oauthSecretKind, z.string().min(1).max(20_000)]),
  deleteOAuthSecret: z.tuple([oauthSecretKind]),
  oauthLogin: z.tuple([]),
  validateConfig: z.tuple([z.record(z.string(), z.unknown())]),
  getLog: z.union([z.tuple([]), z.tuple([z.strictObject({
    contains: z.string().max(200).optional(), limit: z.number().int().min(1).max(2000).optional(), before: z.string().max(100).optional(),
  })])]),
} satisfies Record<Exclude<keyof RelayApi, RelayEvent>, z.ZodType>;

/** The RelayApi members that are subscriptions, not calls. */
export type RelayEvent = 'onStatus' | 'onTestStep';

export type RelayMethod = keyof typeof methodArgs;

export function isRelayMethod(name: unknown): name is RelayMethod {
  return typeof name === 'string' && Object.hasOwn(methodArgs, name);
}

/** A call's arguments, validated; a bad call is refused with what is wrong ("sendTest: 0 is not an e-mail address"). */
export function parseMethodArgs(method: RelayMethod, args: unknown): unknown[] {
  const parsed = methodArgs[method].safeParse(args);
  if (parsed.success) return parsed.data;
  throw new RelayError('invalid', `${method}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'arguments'} ${i.message}`).join('; ')}`);
}

/** Errors that cross a transport keep a machine-readable kind so the UI/CLI can react (e.g. name a field). */
export class RelayError extends Error {
  constructor(readonly kind: 'not-found' | 'invalid' | 'busy' | 'unavailable' | 'conflict' | 'internal', message: string) {
    super(message);
    this.name = 'RelayError';
  }
}
