// RelayService: the composition root. receive -> spool -> deliver, put together behind the RelayApi
// contract; each job is done by its own module (queue administration: admin/, status: status/, bounces:
// deliver/bounce-composer.ts, the test message: inject/, route and connection test: diagnose/).
// open() gives the queue and config without the network (what the CLI needs when no relay runs);
// start() adds the SMTP listener and delivery.
import os from 'node:os';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import type {
  ConfigIssue, ConnectionStep, LogQuery, MessageDetail, OAuthSecretKind, OAuthStatus, PasswordStatus, QueueList, QueueQuery, RelayApi, RelayStatus, RouteInfo,
  TestConnectionResult,
} from './api/contract.js';
import { RelayError } from './api/contract.js';
import { QueueAdmin } from './admin/queue-admin.js';
import { SecretAdmin } from './admin/secret-admin.js';
import { parseDuration, parseSchedule } from './config/duration.js';
import { ConfigError, parseConfig, type Config, type ConfigInput } from './config/schema.js';
import { makeDataDirPrivate } from './config/data-dir.js';
import { configRevision, loadConfig, saveConfig } from './config/store.js';
import { watchConfigFile } from './config/watch.js';
import { BounceComposer } from './deliver/bounce-composer.js';
import { QueueManager, type QueueSettings } from './deliver/queue-manager.js';
import type { DeliveryTransport } from './deliver/transport.js';
import { TransportFactory } from './deliver/transport-factory.js';
import { describeRoute } from './diagnose/route.js';
import { testConnection as runConnectionTest } from './diagnose/test-connection.js';
import { stoppedStatus } from './health/model.js';
import { queueTestMessage } from './inject/test-message.js';
import { MailLog, type LogLevel } from './log/mail-log.js';
import { tokenTestFailure } from './oauth/test-connection.js';
import { FreeSpace } from './receive/free-space.js';
import { Receiver } from './receive/server.js';
import { senderRewriter } from './rewrite/senders.js';
import type { CredentialStore } from './secrets/credential-store.js';
import { bindPasswordEnv } from './secrets/smarthost-password.js';
import { startQueueIndex, type QueueIndex } from './spool/queue-index.js';
import { Spool } from './spool/spool.js';
import { relayStatus } from './status/relay-status.js';
import { StatusEvents } from './status/status-events.js';

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
  /** Opens the OAuth2 sign-in page (oauthLogin); the system browser if unset. */
  openBrowser?: (url: string) => Promise<void>;
}

/** What open() set up; the log and the configuration stay readable after stop(). */
interface Opened {
  config: Config;
  log: MailLog;
  /** The environment secrets are read from for a config: SMTP_RELAY_SMARTHOST_PASSWORD only for the host configured at open(). */
  secretEnv: ReturnType<typeof bindPasswordEnv>;
  transports: TransportFactory;
  secrets: SecretAdmin;
}

/** The spool and the parts that work on it, from open() to stop(). */
interface SpoolParts {
  spool: Spool;
  admin: QueueAdmin;
  bounces: BounceComposer;
  freeSpace: FreeSpace;
}

export class RelayService implements RelayApi {
  private opened: Opened | null = null;
  private parts: SpoolParts | null = null;
  private qm: QueueManager | null = null;
  /** The queue page's index, built while the relay runs (start); listing streams the spool until it is ready. */
  private queueIndex: QueueIndex | null = null;
  private receiver: Receiver | null = null;
  private listening: string | null = null;
  private readonly testSteps = new EventEmitter();
  private readonly status = new StatusEvents(
    () => (this.parts ? this.getStatus() : Promise.resolve(stoppedStatus())),
    (e) => this.opened?.log.error(`status could not be read: ${e.message}`),
  );
  /** Why the config.json on disk is not the one in force (a hand edit that does not validate). */
  private configError: string | null = null;
  private unwatchConfig: (() => void) | null = null;

  constructor(private readonly opts: RelayServiceOptions) {}

  get dataDir(): string {
    return this.opts.dataDir;
  }

  private get config(): Config {
    return this.requireOpened().config;
  }

  private get log(): MailLog {
    return this.requireOpened().log;
  }

  private get secrets(): SecretAdmin {
    return this.requireOpened().secrets;
  }

  private get hostname(): string {
    return this.opts.hostname || os.hostname();
  }

  /** Loads config (refusing a bad one), takes the spool lock and recovers it. No network. */
  async open(): Promise<void> {
    const tightened = await makeDataDirPrivate(this.opts.dataDir);
    const config = await loadConfig(this.opts.dataDir);
    const secretEnv = bindPasswordEnv(this.opts.env ?? process.env, config.smarthost.host);
    const log = new MailLog({ dir: path.join(this.opts.dataDir, 'logs'), console: this.opts.logToConsole });
    const { credentials, hostname, mx, makeTransport } = this.opts;
    const secrets = new SecretAdmin({
      credentials, log, secretEnv, config: () => this.config, changed: () => this.qm?.renewTransport(), openBrowser: this.opts.openBrowser,
    });
    this.opened = { config, log, secretEnv, secrets, transports: new TransportFactory({ credentials, secretEnv, log, hostname, mx, makeTransport }) };
    for (const change of tightened) log.warn(`data directory made private to its owner: ${change}`);
    const spool = await Spool.open(path.join(this.opts.dataDir, 'spool'));
    const changed = () => this.status.changed();
    const bounces = new BounceComposer(spool, log, this.hostname);
    this.parts = { spool, bounces, freeSpace: new FreeSpace(spool.paths.root), admin: new QueueAdmin({ spool, log, queue: () => this.qm, index: () => this.queueIndex, changed }) };
    spool.onCorrupt = async (c) => {
      log.error(`id=${c.id ?? 'unknown'} moved to corrupt/: ${c.reason}`);
      changed();
      await bounces.corrupted(c);
    };
    await spool.reportRecovered();
  }

  /** open() plus the SMTP listener and delivery. Rejects with a plain explanation if the port is taken. */
  async start(): Promise<{ host: string; port: number }> {
    if (!this.parts) await this.open();
    const { spool, admin, bounces } = this.requireParts();
    const { log, transports } = this.requireOpened();
    const stats = spool.stats();
    log.info(`starting: ${stats.queued} queued (${stats.deferred} deferred), ${stats.failed} failed, ${stats.corrupt} in corrupt/`);
    const qm = new QueueManager({
      spool, log,
      ...queueSettings(this.config),
      transport: () => transports.make(this.config),
      report: (kind, state, recipients) => bounces.report(kind, state, recipients),
      isClaimed: (id) => admin.isClaimed(id),
      onChange: () => this.status.changed(),
    });
    this.qm = qm;
    spool.onCommitted = (e) => qm.enqueueFresh(e);
    this.queueIndex = startQueueIndex(spool, log);
    try {
      const addr = await this.startReceiver();
      qm.start();
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
    this.queueIndex?.stop();
    this.queueIndex = null;
    await this.parts?.spool.close();
    this.parts = null;
    this.opened?.log.info('stopped');
    this.opened?.log.close();
    this.status.emitNow();
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
      this.status.changed();
      return;
    }
    const wasRefused = this.configError !== null;
    this.configError = null;
    if (configRevision(config) === configRevision(this.config)) {
      if (wasRefused) this.status.changed();
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
    const { spool, freeSpace } = this.requireParts();
    return relayStatus({
      spool, freeSpace, queue: this.qm, config: this.config, configError: this.configError, listening: this.listening, stalledAfterMs: this.opts.stalledAfterMs,
    });
  }

  async listQueue(query: QueueQuery = {}): Promise<QueueList> {
    return this.requireParts().admin.listQueue(query);
  }

  async getMessage(id: string): Promise<MessageDetail> {
    return this.requireParts().admin.getMessage(id);
  }

  async bulk(action: 'retry' | 'delete', ids: string[]): Promise<{ done: number; problems: { id: string; message: string }[] }> {
    return this.requireParts().admin.bulk(action, ids);
  }

  async retry(id: string): Promise<void> {
    return this.requireParts().admin.retry(id);
  }

  async retryAll(): Promise<number> {
    return this.requireParts().admin.retryAll();
  }

  async deleteMessage(id: string): Promise<void> {
    return this.requireParts().admin.deleteMessage(id);
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
    return this.secrets.setPassword(password);
  }

  async deletePassword(): Promise<boolean> {
    return this.secrets.deletePassword();
  }

  async getPasswordStatus(): Promise<PasswordStatus> {
    return this.secrets.getPasswordStatus();
  }

  async getOAuthStatus(): Promise<OAuthStatus> {
    return this.secrets.getOAuthStatus();
  }

  async setOAuthSecret(kind: OAuthSecretKind, value: string): Promise<OAuthStatus> {
    return this.secrets.setOAuthSecret(kind, value);
  }

  async deleteOAuthSecret(kind: OAuthSecretKind): Promise<boolean> {
    return this.secrets.deleteOAuthSecret(kind);
  }

  async oauthLogin(): Promise<OAuthStatus> {
    return this.secrets.oauthLogin();
  }

  async testConnection(): Promise<TestConnectionResult> {
    const c = this.config;
    const credentials = await this.secrets.testCredentials(c, this.requireOpened().transports);
    if (credentials && 'tokenFailure' in credentials) return tokenTestFailure(c, credentials.tokenFailure);
    return runConnectionTest(c, credentials, { onStep: (step) => this.testSteps.emit('step', step) });
  }

  async sendTest(to: string): Promise<{ id: string }> {
    const id = await queueTestMessage(this.requireParts().spool, this.log, this.config, this.hostname, to);
    this.qm?.wake();
    this.status.changed();
    return { id };
  }

  async route(address: string, from?: string): Promise<RouteInfo> {
    return describeRoute(this.config, address, from, this.opts.mx?.dnsServers);
  }

  async previewRewrite(address: string): Promise<string> {
    return senderRewriter(this.config.rewrite)?.envelope(address) ?? address;
  }

  onStatus(listener: (status: RelayStatus) => void): () => void {
    return this.status.on(listener);
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
    this.testSteps.on('step', listener);
    return () => this.testSteps.off('step', listener);
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
    return this.log.recent(query);
  }

  // ---- internals ----

  private async apply(config: Config): Promise<Config> {
    // Also when the listener is down after a failed change: saving again retries it.
    const listenChanged = JSON.stringify(config.listen) !== JSON.stringify(this.config.listen) || (this.qm !== null && this.receiver === null);
    this.requireOpened().config = config;
    if (this.qm) {
      this.qm.configure(queueSettings(config));
      if (listenChanged) {
        await this.receiver?.close();
        this.listening = null;
        await this.startReceiver();
      }
    }
    this.status.changed();
    return structuredClone(config);
  }

  private async startReceiver(): Promise<{ host: string; port: number }> {
    const receiver = new Receiver({
      listen: this.config.listen, spool: this.requireParts().spool, log: this.log, hostname: this.opts.hostname,
      // No wake(): the spool's onCommitted already handed the message to the queue manager (enqueueFresh).
      onQueued: () => this.status.changed(),
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

  private requireOpened(): Opened {
    if (!this.opened) throw new RelayError('unavailable', 'the relay is not open');
    return this.opened;
  }

  private requireParts(): SpoolParts {
    if (!this.parts) throw new RelayError('unavailable', 'the relay is not open');
    return this.parts;
  }

  private requireRunning(): QueueManager {
    if (!this.qm) throw new RelayError('unavailable', 'the relay is not running; start it with `smtp-relay run` or the tray app');
    return this.qm;
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
