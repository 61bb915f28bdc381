// RelayService: receive -> spool -> deliver, composed, behind the RelayApi contract.
// open() gives the queue and config without the network (what the CLI needs when no relay runs);
// start() adds the SMTP listener and delivery.
import dns from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type {
  ConfigIssue, ConnectionStep, LogQuery, MessageDetail, OAuthSecretKind, OAuthStatus, PasswordStatus, QueueItem, QueueList, QueueQuery, RecipientView, RelayApi, RelayState, RelayStatus, RouteInfo,
  TestConnectionResult,
} from './api/contract.js';
import { RelayError } from './api/contract.js';
import { parseDuration, parseSchedule } from './config/duration.js';
import { ConfigError, parseConfig, type Config, type ConfigInput } from './config/schema.js';
import { makeDataDirPrivate } from './config/data-dir.js';
import { configRevision, loadConfig, saveConfig } from './config/store.js';
import { watchConfigFile } from './config/watch.js';
import { buildDsn, type DsnKind } from './deliver/dsn.js';
import { adviceFor } from './diagnose/advice.js';
import { senderRewriter } from './rewrite/senders.js';
import { createResolver, resolveRoute, RouteError } from './deliver/mx-resolve.js';
import { testConnection as runConnectionTest, type TestCredentials } from './diagnose/test-connection.js';
import { type Blocked, type DeliveryTransport, QueueManager, type QueueSettings } from './deliver/queue-manager.js';
import { MxTransport } from './deliver/mx.js';
import { SmarthostTransport } from './deliver/smarthost.js';
import { healthOf, stoppedStatus } from './health/model.js';
import { MailLog, printable, receivedLine, type LogLevel } from './log/mail-log.js';
import { headerField, mailbox, unstructured } from './mail/header-field.js';
import { FREE_SPACE_FACTOR } from './receive/server.js';
import { FreeSpace } from './receive/free-space.js';
import { selectEntries } from './spool/query.js';
import { oauthAdviceFor } from './oauth/advice.js';
import { openSystemBrowser } from './oauth/open-browser.js';
import { deleteOAuthSecret, oauthStatus, signInWithBrowser, storeOAuthSecret } from './oauth/setup.js';
import { tokenTestFailure } from './oauth/test-connection.js';
import { OAuthTokens } from './oauth/token-source.js';
import type { AccessToken, AccessTokenSource } from './oauth/token.js';
import { Receiver } from './receive/server.js';
import type { CredentialStore } from './secrets/credential-store.js';
import { bindPasswordEnv, resolveSmarthostPassword, smarthostAccount } from './secrets/smarthost-password.js';
import { passwordAccount } from './oauth/stored-secrets.js';
import { rfc5322Date } from './receive/headers.js';
import { Spool, type CorruptEntry, type Entry } from './spool/spool.js';
import type { MessageState, RecipientState } from './spool/state.js';

/** A delivery kept waiting this long by its server shows in status as `stalled`. */
const STALLED_AFTER = 60_000;

export interface RelayServiceOptions {
  /** The data directory: config.json, spool/, logs/. */
  dataDir: string;
  credentials: CredentialStore;
  /** Echo the mail log to stderr (CLI `run`). */
  logToConsole?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Name in the banner, Received headers and EHLO default; this computer's name if unset. */
  hostname?: string;
  /** Replaces the nodemailer transport (tests only). */
  makeTransport?: (config: Config, password: string | null) => DeliveryTransport;
  /** Direct MX delivery (tests only): DNS servers instead of the system's, the port dialled instead of 25. */
  mx?: { dnsServers?: string[]; port?: number };
  /** Tests only: how long a delivery waits before status shows it as stalled (default a minute). */
  stalledAfterMs?: number;
  /** Opens the OAuth2 sign-in page (oauthLogin); the system browser if unset . */
  openBrowser?: (url: string) => Promise<void>;
}

export class RelayService implements RelayApi {
  private config!: Config;
  private spool: Spool | null = null;
  private log!: MailLog;
  private qm: QueueManager | null = null;
  private receiver: Receiver | null = null;
  private listening: string | null = null;
  private readonly events = new EventEmitter();
  private statusTimer: NodeJS.Timeout | null = null;
  /** Messages an API call is changing right now; the queue manager leaves them alone meanwhile. */
  private readonly claimed = new Set<string>();
  /** OAuth2 access tokens, kept across transports while config and secrets stay the same. */
  private oauthTokens: OAuthTokens | null = null;
  /** Why the config.json on disk is not the one in force (a hand edit that does not validate). */
  private configError: string | null = null;
  private unwatchConfig: (() => void) | null = null;
  /** The environment secrets are read from for a config: SMTP_RELAY_SMARTHOST_PASSWORD only for the host configured at open(). */
  private secretEnv!: ReturnType<typeof bindPasswordEnv>;
  private freeSpace: FreeSpace | null = null;

  constructor(private readonly opts: RelayServiceOptions) {}

  get dataDir(): string {
    return this.opts.dataDir;
  }

  /** Loads config (refusing a bad one), takes the spool lock and recovers it. No network. */
  async open(): Promise<void> {
    const tightened = await makeDataDirPrivate(this.opts.dataDir);
    this.config = await loadConfig(this.opts.dataDir);
    this.secretEnv = bindPasswordEnv(this.opts.env ?? process.env, this.config.smarthost.host);
    this.log = new MailLog({ dir: path.join(this.opts.dataDir, 'logs'), console: this.opts.logToConsole });
    for (const change of tightened) this.log.warn(`data directory made private to its owner: ${change}`);
    this.spool = await Spool.open(path.join(this.opts.dataDir, 'spool'));
    this.spool.onCorrupt = (c) => this.corrupted(c);
    await this.spool.reportRecovered();
    this.freeSpace = new FreeSpace(this.spool.paths.root);
  }

  /** open() plus the SMTP listener and delivery. Rejects with a plain explanation if the port is taken. */
  async start(): Promise<{ host: string; port: number }> {
    if (!this.spool) await this.open();
    const spool = this.spool as Spool;
    const stats = spool.stats();
    this.log.info(`starting: ${stats.queued} queued (${stats.deferred} deferred), ${stats.failed} failed, ${stats.corrupt} in corrupt/`);
    const qm = new QueueManager({
      spool, log: this.log,
      ...queueSettings(this.config),
      transport: () => this.makeTransport(),
      report: (kind, state, recipients) => this.report(kind, state, recipients),
      isClaimed: (id) => this.claimed.has(id),
      onChange: () => this.statusChanged(),
    });
    this.qm = qm;
    spool.onCommitted = (e) => qm.enqueueFresh(e);
    try {
      const addr = await this.startReceiver();
      this.qm.start();
      this.unwatchConfig = watchConfigFile(this.opts.dataDir, () => void this.configFileChanged());
      return addr;
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Graceful: stop accepting, give deliveries in flight up to graceMs to finish, release the spool. */
  async stop(graceMs = 10_000): Promise<void> {
    this.unwatchConfig?.();
    this.unwatchConfig = null;
    await this.receiver?.close();
    this.receiver = null;
    this.listening = null;
    await this.qm?.stop(graceMs);
    this.qm = null;
    await this.spool?.close();
    this.spool = null;
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.log?.info('stopped');
    this.log?.close();
    this.emitStatus();
  }

  /** Re-reads config.json (after `config set` from the CLI) and applies it. */
  async reload(): Promise<Config> {
    return this.apply(await loadConfig(this.opts.dataDir));
  }

  /** config.json changed on disk: apply it if it validates, else keep the last good config and say why. */
  private async configFileChanged(): Promise<void> {
    let config: Config;
    try {
      config = await loadConfig(this.opts.dataDir);
    } catch (e) {
      const why = (e as Error).message;
      if (why !== this.configError) this.log.error(`config.json refused, the last good configuration stays in force: ${why}`);
      this.configError = why;
      this.statusChanged();
      return;
    }
    const wasRefused = this.configError !== null;
    this.configError = null;
    if (configRevision(config) === configRevision(this.config)) {
      if (wasRefused) this.statusChanged();
      return; // our own save, or a save that changed nothing
    }
    this.log.info('configuration changed (config.json edited)');
    await this.apply(config).catch((e: Error) => this.log.error(`applying the edited configuration failed: ${e.message}`));
  }

  // ---- RelayApi ----

  async reopenAsAdministrator(): Promise<void> {
    throw new RelayError('unavailable', 'only the tray app can reopen itself as administrator');
  }

  async getStatus(): Promise<RelayStatus> {
    const spool = this.requireSpool();
    const age = await spool.oldestQueuedAge();
    const stats = spool.stats();
    const state = this.state();
    const qm = this.qm;
    // An error stops being news once nothing waits any more (unless delivery itself is stopped by it).
    if (qm && !qm.blocked && stats.queued === 0) qm.lastError = null;
    const lastError = qm?.lastError ? printable(qm.lastError) : (state === 'unconfigured' ? this.notSetUpReason() : null);
    const oldestQueuedSeconds = age === null ? null : Math.floor(age / 1000);
    const free = qm ? await this.freeSpace?.available() : null;
    const diskLow = free != null && free < FREE_SPACE_FACTOR * this.config.listen.maxMessageBytes ? { freeBytes: free } : null;
    return {
      ...stats,
      state,
      sending: qm?.sending ?? 0,
      oldestQueuedSeconds,
      lastError,
      // A token failure reads like a refused password to the general catalogue: OAuth2 advice first.
      advice: oauthAdviceFor(lastError, this.config.smarthost.auth.method) ?? adviceFor(lastError, this.config.smarthost),
      lastDelivery: qm?.lastDelivery ?? null,
      listening: this.listening,
      configError: this.configError,
      configRevision: configRevision(this.config),
      stalled: this.qm?.stalled(this.opts.stalledAfterMs ?? STALLED_AFTER) ?? null,
      health: healthOf({
        ...stats, state, sending: qm?.sending ?? 0, oldestQueuedSeconds, lastError, diskLow,
        unreachable: qm?.unreachable ?? null, nextDue: qm?.nextDue ?? null, stuckAfterMinutes: this.config.alerts.stuckAfterMinutes,
      }),
    };
  }

  async listQueue(query: QueueQuery = {}): Promise<QueueList> {
    const spool = this.requireSpool();
    const { entries, matched } = await selectEntries(spool, {
      offset: query.offset ?? 0, limit: query.limit ?? 100, filter: query.filter ?? 'all', search: query.search ?? '',
      sort: query.sort ?? 'status', order: query.order ?? 'asc',
    });
    const items: QueueItem[] = [];
    for (const e of entries) {
      const state = await spool.load(e);
      if (state && !items.some((i) => i.id === state.id)) items.push(this.toItem(e, state));
    }
    const s = spool.stats();
    return { items, total: s.queued + s.failed, matched };
  }

  async getMessage(id: string): Promise<MessageDetail> {
    const spool = this.requireSpool();
    const { entry, state } = await this.findMessage(id);
    return { ...this.toItem(entry, state), headers: await spool.readHeaders(id) };
  }

  async bulk(action: 'retry' | 'delete', ids: string[]): Promise<{ done: number; problems: { id: string; message: string }[] }> {
    const problems: { id: string; message: string }[] = [];
    for (const id of ids) {
      try {
        await (action === 'retry' ? this.retry(id) : this.deleteMessage(id));
      } catch (e) {
        if (!(e instanceof RelayError)) throw e;
        problems.push({ id, message: e.message });
      }
    }
    return { done: ids.length - problems.length, problems };
  }

  async retry(id: string): Promise<void> {
    // Caught mid-attempt, the message is being tried right now: what was asked for.
    if (this.qm?.isActive(id)) return;
    await this.withMessage(id, async (entry, state) => {
      const now = Date.now();
      for (const r of state.rcpts) {
        if (r.st === 'd' || r.st === 'q' || (entry.kind === 'failed' && r.st === 'f')) {
          r.st = r.st === 'f' ? 'd' : r.st;
          r.next = now;
        }
      }
      await this.requireSpool().update(entry, state);
      this.log.info(`id=${id} retry requested by the user`);
    });
    this.qm?.unblock();
  }

  async retryAll(): Promise<number> {
    const spool = this.requireSpool();
    this.log.info(`retry of all ${spool.stats().queued} waiting messages requested by the user`);
    if (this.qm) {
      this.qm.flush(); // the running queue manager takes everything on its next pass
      return spool.stats().queued;
    }
    // No relay running (CLI): make every waiting message due now, so it goes first at start.
    const now = Date.now();
    for await (const e of spool.entries()) {
      if (e.kind !== 'queue' || e.due <= now) continue;
      const state = await spool.load(e);
      if (!state) continue;
      for (const r of state.rcpts) if (r.st === 'q' || r.st === 'd') r.next = now;
      await spool.update(e, state);
    }
    return spool.stats().queued;
  }

  async deleteMessage(id: string): Promise<void> {
    await this.withMessage(id, async (entry) => {
      await this.requireSpool().remove(entry);
      this.log.info(`id=${id} deleted by the user`);
    });
    this.statusChanged();
  }

  async pause(): Promise<void> {
    this.requireRunning().pause();
    this.log.info('delivery paused by the user');
  }

  async resume(): Promise<void> {
    this.requireRunning().resume();
    this.log.info('delivery resumed by the user');
  }

  async getConfig(): Promise<Config> {
    return structuredClone(this.config);
  }

  async setConfig(input: ConfigInput, baseRevision?: string): Promise<Config> {
    // Two writers (a window opened an hour ago, a hand edit, `config set`) must not overwrite each other
    // silently: a save based on a configuration that has changed since is refused.
    if (baseRevision !== undefined) {
      const current = await loadConfig(this.opts.dataDir).catch(() => this.config);
      if (baseRevision !== configRevision(current)) {
        throw new RelayError('conflict', 'the configuration was changed elsewhere since this copy was loaded (another window, the command line or a hand edit); reload it, then make the change again');
      }
    }
    let config: Config;
    try {
      config = await saveConfig(this.opts.dataDir, input);
    } catch (e) {
      if (e instanceof ConfigError) throw new RelayError('invalid', e.message);
      throw e;
    }
    this.log.info('configuration changed');
    return this.apply(config);
  }

  async setPassword(password: string): Promise<void> {
    const account = this.passwordAccount();
    await this.opts.credentials.set(account, password);
    this.log.redact(password);
    this.log.info(`password for ${account} stored in the OS keychain`);
    this.qm?.renewTransport();
  }

  async deletePassword(): Promise<boolean> {
    const account = this.passwordAccount();
    const deleted = await this.opts.credentials.delete(account);
    if (deleted) this.log.info(`password for ${account} removed from the OS keychain`);
    this.qm?.renewTransport();
    return deleted;
  }

  async getOAuthStatus(): Promise<OAuthStatus> {
    try {
      return await oauthStatus(this.config, this.opts.credentials, this.secretEnv(this.config).env);
    } catch (e) {
      throw new RelayError('unavailable', (e as Error).message);
    }
  }

  async setOAuthSecret(kind: OAuthSecretKind, value: string): Promise<OAuthStatus> {
    const account = await storeOAuthSecret(this.config, this.opts.credentials, kind, value);
    this.log.redact(value);
    this.log.info(`${kind} for ${account} stored in the OS keychain`);
    this.qm?.renewTransport();
    return this.getOAuthStatus();
  }

  async deleteOAuthSecret(kind: OAuthSecretKind): Promise<boolean> {
    const { account, deleted } = await deleteOAuthSecret(this.config, this.opts.credentials, kind);
    if (deleted) this.log.info(`${kind} for ${account} removed from the OS keychain`);
    this.qm?.renewTransport();
    return deleted;
  }

  async oauthLogin(): Promise<OAuthStatus> {
    const refreshToken = await signInWithBrowser(this.config, this.opts.credentials, this.secretEnv(this.config).env, { openBrowser: this.opts.openBrowser ?? openSystemBrowser });
    return this.setOAuthSecret('refresh-token', refreshToken);
  }

  async getPasswordStatus(): Promise<PasswordStatus> {
    const c = this.config.smarthost;
    if (!c.host || !c.auth.username) return { account: null, stored: false, source: null };
    try {
      const account = passwordAccount(this.config);
      const found = await resolveSmarthostPassword(this.config, this.opts.credentials, this.secretEnv(this.config).env, account);
      return { account, stored: found !== null, source: found?.source ?? null };
    } catch (e) {
      throw new RelayError('unavailable', (e as Error).message);
    }
  }

  async testConnection(): Promise<TestConnectionResult> {
    const c = this.config;
    let credentials: TestCredentials | null = null;
    if (c.smarthost.auth.method === 'password' && c.smarthost.host && c.smarthost.auth.username) {
      const found = await resolveSmarthostPassword(c, this.opts.credentials, this.secretEnv(c).env).catch((e: Error) => e);
      if (found instanceof Error) {
        credentials = { user: c.smarthost.auth.username, unreadable: found.message };
      } else if (found) {
        this.log?.redact(found.password);
        credentials = { user: c.smarthost.auth.username, pass: found.password };
      }
    }
    if (c.smarthost.auth.method.startsWith('oauth2') && c.smarthost.host) {
      // A new token, not the cached one: the test proves the credential still works now.
      const got = await this.oauthSource(c).then((s): Promise<string | AccessToken> | string => (typeof s === 'string' ? s : s.get(true)))
        .catch((e: Error) => e.message);
      if (typeof got === 'string') return tokenTestFailure(c, got);
      credentials = { user: c.smarthost.auth.username, token: got.token };
    }
    return runConnectionTest(c, credentials, { onStep: (step) => this.events.emit('test-step', step) });
  }

  async sendTest(to: string): Promise<{ id: string }> {
    const spool = this.requireSpool();
    const hostname = this.opts.hostname || os.hostname();
    const from = this.config.smarthost.auth.username.includes('@') ? this.config.smarthost.auth.username : `smtp-relay@${hostname}`;
    const ingest = await spool.beginIngest();
    const subject = 'SMTP Relay Tray test message';
    let head: string[];
    try {
      head = [
        headerField('From', mailbox(from, 'SMTP Relay Tray')), headerField('To', mailbox(to)), headerField('Subject', unstructured(subject)),
        headerField('Date', rfc5322Date(new Date())), headerField('Message-ID', `<${ingest.id}@${hostname}>`),
      ];
    } catch (e) {
      await ingest.abort();
      throw new RelayError('invalid', (e as Error).message);
    }
    const text = [
      ...head, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '',
      `This test message was sent by SMTP Relay Tray on ${hostname} through ${this.config.smarthost.host || '(no smarthost)'}.`,
      'If you can read it, applications on that server can send mail through the relay.', '',
    ].join('\r\n');
    try {
      await ingest.write(Buffer.from(text));
      await ingest.commit({ from, to: [to], client: { ip: '127.0.0.1', helo: 'send-test' }, subject, messageId: `${ingest.id}@${hostname}` });
    } catch (e) {
      await ingest.abort();
      throw e;
    }
    this.log.info(receivedLine({ id: ingest.id, from, to: [to], messageId: `${ingest.id}@${hostname}`, size: Buffer.byteLength(text), client: 'send-test' }));
    this.qm?.wake();
    this.statusChanged();
    return { id: ingest.id };
  }

  async route(address: string, from?: string): Promise<RouteInfo> {
    const c = this.config;
    const rw = senderRewriter(c.rewrite);
    const sender = from === undefined ? null : { original: from, rewritten: rw ? rw.envelope(from) : from };
    const s = c.smarthost;
    if (c.delivery.mode === 'mx') {
      const info = { recipient: address, sender, mode: 'mx' as const, tls: 'STARTTLS if offered, certificate not verified', auth: 'none' };
      const domain = address.slice(address.lastIndexOf('@') + 1);
      try {
        const route = await resolveRoute(domain, { ipFamily: c.delivery.ipFamily, resolver: createResolver(this.opts.mx?.dnsServers) });
        const destinations = route.hosts.map((h) => `${h.name}[${h.addresses.join(', ') || h.problem || 'no address'}]:25${route.implicit ? ' (no MX: the domain\'s own address)' : ` (preference ${h.preference})`}`);
        return { ...info, destinations, problem: null };
      } catch (e) {
        if (!(e instanceof RouteError)) throw e;
        return { ...info, destinations: [], problem: e.message };
      }
    }
    const tlsText = { starttls: 'STARTTLS required', tls: 'implicit TLS', opportunistic: 'STARTTLS if offered', none: 'none (plaintext)' }[s.security] +
      (s.security === 'none' ? '' : `, certificate ${s.verifyCertificate ? 'verified' : 'NOT verified'}${s.caFile ? ` (CA file ${s.caFile})` : ''}`);
    const authText = s.auth.method === 'none' ? 'none' : `${s.auth.method} as ${s.auth.username}${s.auth.method === 'password' ? ` (${s.auth.mechanism === 'auto' ? 'LOGIN preferred' : s.auth.mechanism})` : ''}`;
    if (!s.host) return { recipient: address, sender, mode: 'smarthost', destinations: [], tls: tlsText, auth: authText, problem: 'no smarthost configured (smarthost.host is empty)' };
    let destinations: string[];
    let problem: string | null = null;
    try {
      const family = { auto: 0, ipv4: 4, ipv6: 6 }[c.delivery.ipFamily];
      const found = net.isIP(s.host) ? [{ address: s.host }] : await dns.lookup(s.host, { family, all: true });
      destinations = found.map((a) => `${s.host}[${a.address}]:${s.port}`);
    } catch (e) {
      destinations = [`${s.host}:${s.port}`];
      problem = `cannot resolve ${s.host}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    }
    return { recipient: address, sender, mode: 'smarthost', destinations, tls: tlsText, auth: authText, problem };
  }

  async previewRewrite(address: string): Promise<string> {
    return senderRewriter(this.config.rewrite)?.envelope(address) ?? address;
  }

  onStatus(listener: (status: RelayStatus) => void): () => void {
    this.events.on('status', listener);
    return () => this.events.off('status', listener);
  }

  /** Every delivery-log line as it is written (metrics and the event log read them). */
  onLogLine(listener: (line: string) => void): () => void {
    return this.log.onLine(listener);
  }

  /** Writes a line to the delivery log (state-change events for admins, the control channel's refusals). */
  writeLog(level: LogLevel, text: string): void {
    this.log.write(level, text);
  }

  onTestStep(listener: (step: ConnectionStep) => void): () => void {
    this.events.on('test-step', listener);
    return () => this.events.off('test-step', listener);
  }

  async validateConfig(input: ConfigInput): Promise<ConfigIssue[]> {
    try {
      parseConfig(input);
      return [];
    } catch (e) {
      if (e instanceof ConfigError) return e.issues.map((i) => ({ field: i.path, message: i.message }));
      throw e;
    }
  }

  async getLog(query: LogQuery = {}): Promise<string[]> {
    if (!this.log) throw new RelayError('unavailable', 'the relay is not open');
    return this.log.recent(query);
  }

  // ---- internals ----

  private state(): RelayState {
    if (!this.qm) return 'stopped';
    if (this.qm.blocked) return this.qm.blocked.state;
    if (this.notSetUpReason()) return 'unconfigured';
    return this.qm.paused ? 'paused' : 'running';
  }

  /** A first run (no smarthost yet) is not set up, before any mail has tried to leave. */
  private notSetUpReason(): string | null {
    const c = this.config;
    return c.delivery.mode === 'smarthost' && !c.smarthost.host ? 'no smarthost configured yet: enter the server that sends your mail' : null;
  }

  /** A queue entry as the window and the CLI show it, with the next try the relay will really make. */
  private toItem(e: Entry, state: MessageState): QueueItem {
    const item = toItem(e, state);
    if (item.status === 'failed') return item;
    const qm = this.qm;
    const blocked = qm?.blocked;
    const unreachable = qm?.unreachable;
    let held: string | null = null;
    // Without a running relay (the CLI on its own) the schedule stands, from the moment the relay starts.
    if (!qm) return { ...item, held: 'the relay is not running' };
    if (blocked) held = blocked.state === 'auth-failed' ? 'delivery is stopped until the sign-in to the smarthost is fixed' : 'delivery waits until the relay is set up';
    else if (qm.paused) held = 'delivery is paused';
    else if (unreachable && item.nextAttempt !== null && unreachable.until > Date.now()) {
      // The message may be due, but nothing goes to the smarthost before its backoff ends.
      return { ...item, nextAttempt: Math.max(item.nextAttempt, unreachable.until), held: `${unreachable.host} is unreachable: waiting before connecting again` };
    }
    return held ? { ...item, nextAttempt: null, held } : item;
  }

  private async apply(config: Config): Promise<Config> {
    // Also when the listener is down after a failed change: saving again retries it.
    const listenChanged = JSON.stringify(config.listen) !== JSON.stringify(this.config.listen) || (this.qm !== null && this.receiver === null);
    this.config = config;
    if (this.qm) {
      this.qm.configure(queueSettings(config));
      if (listenChanged) {
        await this.receiver?.close();
        this.listening = null;
        await this.startReceiver();
      }
    }
    this.statusChanged();
    return structuredClone(config);
  }

  private async startReceiver(): Promise<{ host: string; port: number }> {
    const receiver = new Receiver({
      listen: this.config.listen, spool: this.requireSpool(), log: this.log, hostname: this.opts.hostname,
      // No wake(): the spool's onCommitted already handed the message to the queue manager (enqueueFresh).
      onQueued: () => this.statusChanged(),
    });
    let addr;
    try {
      addr = await receiver.listen();
    } catch (e) {
      throw listenError(e as NodeJS.ErrnoException, this.config.listen);
    }
    this.receiver = receiver;
    this.listening = `${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`;
    this.log.info(`listener ready on ${this.listening}`);
    return addr;
  }

  private async makeTransport(): Promise<DeliveryTransport | Blocked> {
    const c = this.config;
    const unconfigured = (reason: string): Blocked => ({ state: 'unconfigured', reason });
    if (c.delivery.mode === 'mx') return this.opts.makeTransport?.(c, null) ?? new MxTransport(c, { ...this.opts.mx, hostname: this.opts.hostname, log: this.log });
    if (!c.smarthost.host) return unconfigured('no smarthost configured: set smarthost.host in the settings window or with `smtp-relay config set smarthost.host HOST`');
    let tokens: AccessTokenSource | null = null;
    if (c.smarthost.auth.method.startsWith('oauth2')) {
      const source = await this.oauthSource(c).catch((e: Error) => e.message);
      if (typeof source === 'string') return unconfigured(source);
      tokens = source;
    }
    let password: string | null = null;
    if (c.smarthost.auth.method === 'password') {
      try {
        password = (await resolveSmarthostPassword(c, this.opts.credentials, this.secretEnv(c).env))?.password ?? null;
      } catch (e) {
        return unconfigured((e as Error).message);
      }
      if (!password) return unconfigured(this.secretEnv(c).withheld ?? `no password stored for ${smarthostAccount(c)}: run \`smtp-relay password set\` or enter it in the settings window`);
      this.log.redact(password);
    }
    try {
      return this.opts.makeTransport ? this.opts.makeTransport(c, password) : new SmarthostTransport(c, password, {}, tokens);
    } catch (e) {
      return unconfigured((e as Error).message);
    }
  }

  /** The OAuth2 token source for `c`, or why there is none (a secret not stored, the keychain failing). */
  private async oauthSource(c: Config): Promise<AccessTokenSource | string> {
    this.oauthTokens ??= new OAuthTokens(this.opts.credentials);
    const got = await this.oauthTokens.sourceFor(c, this.secretEnv(c));
    if ('missing' in got) return got.missing;
    for (const secret of got.secrets) this.log.redact(secret);
    return got.source;
  }

  /**
   * An entry could not be read and goes to corrupt/: an error line, and a bounce for its waiting
   * recipients when the envelope is still readable (the content is not sent: it may be cut short).
   */
  private async corrupted(c: CorruptEntry): Promise<void> {
    this.log.error(`id=${c.id ?? 'unknown'} moved to corrupt/: ${c.reason}`);
    this.statusChanged();
    const state = c.state;
    if (!state || state.from === '') return; // nobody to tell, or a bounce: bounces are never bounced
    const waiting = state.rcpts.filter((r) => r.st === 'q' || r.st === 'd');
    for (const r of waiting) {
      r.st = 'f';
      r.esc = '5.3.0';
      r.resp = `5.3.0 the message was damaged in the relay's queue and was not sent (${c.reason}); the administrator finds it in corrupt/`.slice(0, 512);
    }
    if (waiting.length) await this.report('failed', state, waiting, c.headers);
  }

  /** Queues a delivery status notification to the sender of `state`, through the same spool. */
  private async report(kind: DsnKind, state: MessageState, recipients: RecipientState[], headers?: string): Promise<void> {
    const spool = this.requireSpool();
    const hostname = this.opts.hostname || os.hostname();
    const text = buildDsn({ kind, hostname, state, recipients, headers: headers ?? await spool.readHeaders(state.id) });
    const ingest = await spool.beginIngest();
    try {
      await ingest.write(Buffer.from(text));
      await ingest.commit({ from: '', to: [state.from], client: { ip: '127.0.0.1', helo: 'dsn' }, subject: kind === 'failed' ? 'Undelivered Mail Returned to Sender' : 'Delayed Mail' });
    } catch (e) {
      await ingest.abort();
      throw e;
    }
    this.log.info(`id=${state.id} sender ${kind === 'failed' ? 'non-delivery' : 'delay'} notification: ${ingest.id} to=<${state.from}> for ${recipients.map((r) => `<${r.a}>`).join(',')}`);
  }

  private passwordAccount(): string {
    if (!this.config.smarthost.host || !this.config.smarthost.auth.username) {
      throw new RelayError('invalid', 'set smarthost.host and smarthost.auth.username before storing a password');
    }
    return passwordAccount(this.config);
  }

  private async findMessage(id: string): Promise<{ entry: Entry; state: MessageState }> {
    const spool = this.requireSpool();
    const entry = await spool.find(id);
    const state = entry && (await spool.load(entry));
    if (!entry || !state) throw new RelayError('not-found', `no message ${id} in the queue`);
    return { entry, state };
  }

  /** Runs a change on one message while the queue manager is kept off it. */
  private async withMessage(id: string, change: (entry: Entry, state: MessageState) => Promise<void>): Promise<void> {
    if (this.qm?.isActive(id) || this.claimed.has(id)) throw new RelayError('busy', `message ${id} is being delivered right now; try again in a moment`);
    this.claimed.add(id);
    try {
      const { entry, state } = await this.findMessage(id);
      await change(entry, state);
    } finally {
      this.claimed.delete(id);
    }
    this.statusChanged();
  }

  private requireSpool(): Spool {
    if (!this.spool) throw new RelayError('unavailable', 'the relay is not open');
    return this.spool;
  }

  private requireRunning(): QueueManager {
    if (!this.qm) throw new RelayError('unavailable', 'the relay is not running; start it with `smtp-relay run` or the tray app');
    return this.qm;
  }

  /** Coalesces bursts of changes into one status event per 100 ms. */
  private statusChanged(): void {
    if (this.statusTimer || this.events.listenerCount('status') === 0) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = null;
      this.emitStatus();
    }, 100);
  }

  private emitStatus(): void {
    if (this.events.listenerCount('status') === 0) return;
    if (!this.spool) {
      this.events.emit('status', stoppedStatus());
      return;
    }
    void this.getStatus().then((s) => this.events.emit('status', s), () => {});
  }
}

function queueSettings(c: Config): QueueSettings {
  return {
    schedule: parseSchedule(c.delivery.retrySchedule),
    maxQueueTime: parseDuration(c.delivery.maxQueueTime),
    delayWarningAfter: parseDuration(c.delivery.delayWarningAfter),
    concurrency: c.smarthost.maxConnections,
    rewriter: senderRewriter(c.rewrite),
  };
}


function listenError(e: NodeJS.ErrnoException, listen: Config['listen']): Error {
  const where = `${listen.host}:${listen.port}`;
  if (e.code === 'EADDRINUSE') {
    return new Error(`cannot listen on ${where}: the port is already in use by another program (often the IIS SMTP service or another mail server); stop that program or choose another port with listen.port`);
  }
  if (e.code === 'EACCES') {
    return new Error(`cannot listen on ${where}: permission denied (ports below 1024 need administrator rights on Linux; choose listen.port above 1024 or run with the needed rights)`);
  }
  if (e.code === 'EADDRNOTAVAIL') return new Error(`cannot listen on ${where}: no network interface of this computer has the address ${listen.host} (listen.host)`);
  return new Error(`cannot listen on ${where}: ${e.message}`);
}

function toItem(e: Entry, state: MessageState): QueueItem {
  const recipients: RecipientView[] = state.rcpts.map((r) => ({
    address: r.a,
    status: ({ q: 'queued', d: 'deferred', s: 'sent', f: 'failed' } as const)[r.st],
    attempts: r.n,
    nextAttempt: r.st === 'q' || r.st === 'd' ? r.next : null,
    lastAttempt: r.at ?? null,
    lastReply: r.resp ?? null,
    relay: r.relay ?? null,
  }));
  const pending = recipients.filter((r) => r.nextAttempt !== null).map((r) => r.nextAttempt as number);
  const attempts = Math.max(0, ...state.rcpts.map((r) => r.n));
  return {
    id: state.id,
    status: e.kind === 'failed' ? 'failed' : attempts > 0 ? 'deferred' : 'queued',
    from: state.from, subject: state.subject, size: state.size, created: state.created, attempts,
    nextAttempt: pending.length ? Math.min(...pending) : null,
    held: null,
    messageId: state.mid ?? null,
    recipients,
  };
}
