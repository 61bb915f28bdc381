// How the tray app reaches the relay. The service runs the relay when one is installed (mail must flow
// with nobody logged on); the tray app is then only its face. So at start the app looks for a relay that
// already serves a data directory, the service's first, and becomes its client: as an administrator over
// the control channel, or read-only (state and counts from the public status file) as anyone else. With
// no service it embeds the relay (in a utility process, `embed`) and is a client of that. Every RelayApi
// call of the tray and the window goes through here, so they work the same in every mode.
import { EventEmitter } from 'node:events';
import { stoppedStatus } from '../health/model.js';
import { forwardCalls } from '../api/calls.js';
import { RelayError, type ConnectionStep, type RelayApi, type RelayMethod, type RelayStatus } from '../api/contract.js';
import { connectControl, type RemoteRelay } from '../control/client.js';
import { ControlAccessError } from '../control/key.js';
import { readPublicStatus } from '../control/public-status.js';

/** A relay this app started and must stop when it quits. */
export interface EmbeddedRelay {
  stop(): Promise<void>;
  /** Resolves when the relay process ends, expectedly or not. */
  exited: Promise<unknown>;
}

export type LinkMode =
  /** Full access to a relay someone else runs (the service, or `smtp-relay run`). */
  | { kind: 'client'; dataDir: string; service: boolean }
  /** The service runs, and this user may only see its state. */
  | { kind: 'read-only'; dataDir: string }
  /** The relay runs inside this app. */
  | { kind: 'embedded'; dataDir: string }
  /** The service is installed but not running; the link reconnects by itself when it is back. */
  | { kind: 'service-stopped'; dataDir: string }
  | { kind: 'starting'; dataDir: string };

export interface RelayLinkOptions {
  /** Where the service keeps its data; null where no service can exist. */
  serviceDataDir: string | null;
  /** This user's own data directory (embedded mode). */
  userDataDir: string;
  embed(dataDir: string): Promise<EmbeddedRelay>;
  connect?: (dataDir: string) => Promise<RemoteRelay | null>;
  readPublicStatus?: (dataDir: string) => Promise<RelayStatus | null>;
  /** Starts this app again elevated and quits (the window's "Reopen as administrator"). */
  reopenAsAdministrator?: () => Promise<void>;
  /** How often a lost relay is looked for again, and a read-only status read. The tray turns grey at once
   *  when a connection closes; a relay that is back is found within this. */
  pollMs?: number;
}

const READ_ONLY = 'Only an administrator can do this: the relay runs as a Windows service under its own account. ' +
  'Open SMTP Relay Tray as administrator (right-click, "Run as administrator") to change settings or manage the queue.';
const SERVICE_STOPPED = 'The SMTP Relay service is stopped: start it (tray menu "Start relay", as administrator) and try again.';

export class RelayLink {
  private remote: RemoteRelay | null = null;
  private embedded: EmbeddedRelay | null = null;
  private current: LinkMode;
  private status: RelayStatus = stoppedStatus();
  private readonly events = new EventEmitter();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly connect: (dataDir: string) => Promise<RemoteRelay | null>;
  private readonly readPublic: (dataDir: string) => Promise<RelayStatus | null>;
  /** The RelayApi the tray, the IPC handlers and the window use. */
  readonly api: RelayApi;

  constructor(private readonly opts: RelayLinkOptions) {
    this.connect = opts.connect ?? connectControl;
    this.readPublic = opts.readPublicStatus ?? readPublicStatus;
    this.current = { kind: 'starting', dataDir: opts.userDataDir };
    this.api = this.makeApi();
  }

  get mode(): LinkMode {
    return this.current;
  }

  /** Finds or starts the relay. Rejects only when embedding fails (the port is taken, the spool locked). */
  async start(): Promise<LinkMode> {
    const service = this.opts.serviceDataDir;
    if (service && (await this.tryService(service))) return this.current;
    const user = this.opts.userDataDir;
    const remote = await this.connect(user);
    if (remote) {
      await this.attach(remote, { kind: 'client', dataDir: user, service: false });
      return this.current;
    }
    await this.embed(user);
    return this.current;
  }

  /** Quits: an embedded relay is stopped gracefully; a service is left running. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.remote?.close();
    this.remote = null;
    await this.embedded?.stop();
    this.embedded = null;
  }

  /** The service is installed when it has published a status (it ran at least once). */
  private async tryService(dir: string): Promise<boolean> {
    let remote: RemoteRelay | null;
    try {
      remote = await this.connect(dir);
    } catch (e) {
      if (!(e instanceof ControlAccessError)) throw e;
      const status = await this.readPublic(dir);
      if (!status) return false;
      this.current = { kind: 'read-only', dataDir: dir };
      this.publish(status);
      this.poll();
      return true;
    }
    if (remote) {
      await this.attach(remote, { kind: 'client', dataDir: dir, service: true });
      return true;
    }
    const published = await this.readPublic(dir).catch(() => null);
    if (!published) return false;
    this.lost({ kind: 'service-stopped', dataDir: dir });
    return true;
  }

  private async embed(dir: string): Promise<void> {
    this.current = { kind: 'starting', dataDir: dir };
    const embedded = await this.opts.embed(dir);
    this.embedded = embedded;
    void embedded.exited.then(() => {
      if (this.embedded !== embedded || this.stopped) return;
      // The relay process died (a crash, not a quit): the tray shows it stopped and starts it again.
      this.embedded = null;
      this.lost({ kind: 'embedded', dataDir: dir });
    });
    const remote = await this.connect(dir);
    if (!remote) throw new Error(`the relay started but does not answer on its control channel (${dir})`);
    await this.attach(remote, { kind: 'embedded', dataDir: dir });
  }

  private async attach(remote: RemoteRelay, mode: LinkMode): Promise<void> {
    this.remote = remote;
    this.current = mode;
    remote.onClose(() => {
      if (this.remote !== remote) return;
      this.remote = null;
      if (!this.stopped) this.lost(mode.kind === 'client' && mode.service ? { kind: 'service-stopped', dataDir: mode.dataDir } : mode);
    });
    await remote.onStatus((s) => this.publish(s));
    await remote.onTestStep((step) => this.events.emit('step', step));
    this.publish(await remote.getStatus());
  }

  /** The relay went away: show it stopped now, look for it again every pollMs. */
  private lost(mode: LinkMode): void {
    this.current = mode;
    const status = stoppedStatus();
    if (mode.kind === 'service-stopped') {
      status.health = { ...status.health, title: 'Service stopped', cause: 'The SMTP Relay service is not running: no mail is accepted or delivered until it is started (as an administrator). The tray reconnects by itself when it is back.' };
    }
    this.publish(status);
    this.poll();
  }

  private poll(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.pollOnce().finally(() => {
      if (!this.remote && !this.stopped) this.poll();
    }), this.opts.pollMs ?? 1000);
  }

  private async pollOnce(): Promise<void> {
    const mode = this.current;
    try {
      if (mode.kind === 'read-only') {
        this.publish((await this.readPublic(mode.dataDir)) ?? stoppedStatus());
        return;
      }
      if (mode.kind === 'embedded' && !this.embedded) {
        await this.embed(mode.dataDir);
        return;
      }
      const remote = await this.connect(mode.dataDir);
      if (remote) await this.attach(remote, mode.kind === 'service-stopped' ? { kind: 'client', dataDir: mode.dataDir, service: true } : mode);
    } catch {
      // Not back yet (or refused): the next poll tries again.
    }
  }

  private publish(received: RelayStatus): void {
    const status: RelayStatus = this.current.kind === 'read-only' ? { ...received, access: 'read-only' } : received;
    const changed = JSON.stringify(status) !== JSON.stringify(this.status);
    this.status = status;
    if (changed) this.events.emit('status', status);
  }

  private refusal(): RelayError {
    if (this.current.kind === 'read-only') return new RelayError('unavailable', READ_ONLY);
    if (this.current.kind === 'service-stopped') return new RelayError('unavailable', SERVICE_STOPPED);
    return new RelayError('unavailable', 'the relay is not running');
  }

  private makeApi(): RelayApi {
    const forward = (method: RelayMethod) => (...args: unknown[]) => {
      if (method === 'reopenAsAdministrator') {
        return this.opts.reopenAsAdministrator?.() ?? Promise.reject(new RelayError('unavailable', 'reopening as administrator is not possible here'));
      }
      if (method === 'getStatus' && !this.remote) return Promise.resolve(this.status);
      if (!this.remote) return Promise.reject(this.refusal());
      return (this.remote[method] as (...a: unknown[]) => Promise<unknown>)(...args);
    };
    return {
      ...forwardCalls((method, args) => forward(method)(...args)),
      onStatus: (listener: (s: RelayStatus) => void) => {
        this.events.on('status', listener);
        return () => this.events.off('status', listener);
      },
      onTestStep: (listener: (s: ConnectionStep) => void) => {
        this.events.on('step', listener);
        return () => this.events.off('step', listener);
      },
    };
  }
}
