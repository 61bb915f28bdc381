// The outbound side in direct delivery (delivery.mode "mx"): each recipient domain's mail goes to that
// domain's own mail exchangers, one SMTP transaction per domain with its recipients, as Postfix's
// smtp client does without a relayhost. The route comes from DNS (mx-resolve.ts); replies become
// per-recipient outcomes exactly as for the smarthost (classify.ts). The spool owns every retry.
import type { Resolver } from 'node:dns/promises';
import net from 'node:net';
import type { NodemailerError, SMTPTransportOptions } from 'nodemailer';
import type { Config } from '../config/schema.js';
import { outcomeOfError, outcomeOfSuccess, type Attempt } from './classify.js';
import { Conversations, type Waiting } from './conversation.js';
import { mailFor } from './message-stream.js';
import { loadNodemailer } from './nodemailer.js';
import { chooseHeloName, createResolver, resolveRoute, RouteError } from './mx-resolve.js';
import type { AttemptOutcome, RecipientOutcome } from './outcome.js';
import type { Timeouts } from './smarthost.js';
import type { DeliveryTransport, OutgoingMessage } from './transport.js';

/** Domains of one message delivered at once (ZoneMTA and Postfix open up to 5 connections per destination). */
const DOMAINS_AT_ONCE = 5;
/** Addresses tried for one domain in one attempt, over all its MX hosts (Postfix smtp_mx_address_limit). */
const ADDRESSES_PER_ATTEMPT = 5;
const SMTP_PORT = 25;

export interface MxTransportOptions {
  /** DNS servers ("127.0.0.1:5353") instead of the system's. */
  dnsServers?: string[];
  /**
   * Test seam, not a setting: the port dialled on every MX host. Mail exchangers listen on 25; tests
   * cannot bind it.
   */
  port?: number;
  /** EHLO name when delivery.heloName is empty (the relay's configured name); else this computer's FQDN. */
  hostname?: string;
  /** Where the warning about an EHLO name that MX hosts may refuse goes. */
  log?: { warn(text: string): void };
  /** Replaces the defaults (connect 30 s, greeting 30 s, each phase its RFC 5321 limit); tests shorten them. */
  timeouts?: Timeouts;
}

interface Target {
  host: string;
  address: string;
}

export class MxTransport implements DeliveryTransport {
  private readonly resolver: Resolver;
  private readonly port: number;
  /** close(true) aborts every conversation in flight through this. */
  private readonly stopped = new AbortController();
  private helo: Promise<string> | null = null;
  private readonly conversations: Conversations;

  constructor(private readonly config: Config, private readonly options: MxTransportOptions = {}) {
    this.resolver = createResolver(options.dnsServers);
    this.port = options.port ?? SMTP_PORT;
    this.conversations = new Conversations(options.timeouts?.phases);
  }

  /** Conversations in progress, each with the phase it waits in and since when. */
  waiting(): Waiting[] {
    return this.conversations.waiting();
  }

  /**
   * One attempt for every recipient in `envelope.to`, grouped by domain, several domains at once.
   * Never reports destinationFailure: one unreachable domain must not hold up mail to the others, so
   * its recipients simply defer on their own schedule.
   */
  async send(message: OutgoingMessage): Promise<AttemptOutcome> {
    const { envelope } = message;
    const byDomain = new Map<string, string[]>();
    for (const address of envelope.to) {
      const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
      byDomain.set(domain, [...(byDomain.get(domain) ?? []), address]);
    }
    const outcomes = await inParallel([...byDomain], DOMAINS_AT_ONCE, ([domain, to]) => this.sendToDomain(domain, { ...message, envelope: { ...envelope, to } }));
    // Each recipient names the server of its own domain.
    const byAddress = new Map(outcomes.flatMap((o) => o.recipients.map((r) => [r.address, { ...r, relay: o.relay }] as const)));
    return {
      recipients: envelope.to.map((a) => byAddress.get(a) as RecipientOutcome),
      relay: [...new Set(outcomes.map((o) => o.relay))].join(','),
      ...(outcomes.some((o) => o.maybeDelivered) && { maybeDelivered: true }),
    };
  }

  /** Direct delivery has no single server to log in to: this checks DNS and the EHLO name instead. */
  async verify(): Promise<void> {
    const { problem } = await chooseHeloName(this.config, { hostname: this.options.hostname, resolver: this.resolver });
    if (problem) throw new Error(problem);
  }

  /** Conversations in flight finish unless `force`: then they end now and their recipients defer. */
  close(force = false): void {
    if (force) this.stopped.abort();
  }

  private async sendToDomain(domain: string, message: OutgoingMessage): Promise<AttemptOutcome> {
    const { envelope } = message;
    let targets: Target[];
    try {
      const route = await resolveRoute(domain, { ipFamily: this.config.delivery.ipFamily, resolver: this.resolver });
      targets = route.hosts.flatMap((h) => h.addresses.map((address) => ({ host: h.name, address }))).slice(0, ADDRESSES_PER_ATTEMPT);
    } catch (e) {
      if (!(e instanceof RouteError)) throw e;
      const verdict = e.permanent ? 'failed' : 'deferred';
      return { relay: 'none', recipients: envelope.to.map((address) => ({ address, verdict, enhanced: e.enhanced, response: e.message })) };
    }
    const helo = await this.heloName();
    let outcome: AttemptOutcome | null = null;
    for (const target of targets) {
      if (this.stopped.signal.aborted) break;
      outcome = await this.sendTo(target, helo, message);
      // A reply about the message is the domain's answer; only a host that could not take the
      // transaction at all (no connection, TLS failure, refusing greeting or EHLO, 421, 530) sends us
      // to the next MX (RFC 5321 §5.1). After the final dot the message may be there: never twice.
      if (!(outcome.destinationFailure || outcome.authFailure) || outcome.maybeDelivered) break;
    }
    if (!outcome) {
      return { relay: 'none', recipients: envelope.to.map((address) => ({ address, verdict: 'deferred', response: 'delivery stopped: the relay is shutting down' })) };
    }
    // Per recipient only: the flags would pause the whole queue, which suits one smarthost, not MX.
    const { destinationFailure: _d, authFailure: _a, ...perRecipient } = outcome;
    return perRecipient;
  }

  /** One SMTP conversation with one address of one MX host. */
  private async sendTo(target: Target, helo: string, message: OutgoingMessage): Promise<AttemptOutcome> {
    const attempt: Attempt = { recipients: message.envelope.to, relay: `${target.host}[${target.address}]:${this.port}`, bodySent: false };
    const connection = (await loadNodemailer()).createTransport(this.connectionOptions(target, helo));
    const conversation = this.conversations.start(attempt.relay, message.envelope);
    const { body, mail } = await mailFor(message, attempt, conversation, AbortSignal.any([this.stopped.signal, conversation.signal]));
    try {
      const info = await connection.sendMail(mail);
      return outcomeOfSuccess(attempt, info);
    } catch (err) {
      const e = err as NodemailerError;
      // Reading the spool file failed: ours to report, not the destination's.
      if (e.code === 'ESTREAM') throw e;
      if (conversation.refused) return conversation.refused;
      if (conversation.timedOut) {
        // Only a silence after the final dot may hide a delivery; any earlier one is the host's failure.
        attempt.bodySent = conversation.phase === 'end-of-data';
        return outcomeOfError(attempt, Object.assign(new Error(conversation.timedOut), { code: 'ETIMEDOUT' }));
      }
      if (e.code === 'EABORT') e.message = 'delivery stopped: the relay is shutting down';
      return outcomeOfError(attempt, e);
    } finally {
      body.destroy();
      connection.close();
      this.conversations.finish(conversation);
    }
  }

  private connectionOptions(target: Target, helo: string): SMTPTransportOptions {
    const { phases: _phases, ...timeouts } = this.options.timeouts ?? {};
    return {
      host: target.address,
      port: this.port,
      name: helo,
      connectionTimeout: 30_000,
      greetingTimeout: 30_000,
      // A backstop only: each phase has its own, shorter limit (conversation.ts).
      socketTimeout: 11 * 60_000,
      ...timeouts,
      // Postfix smtp_tls_security_level "may": STARTTLS when offered, plaintext when it is refused,
      // any certificate accepted (MX certificates rarely match the MX name, and without DANE or
      // MTA-STS nothing says which name they should match).
      opportunisticTLS: true,
      // RFC 7435 (opportunistic security): unauthenticated encryption must not get in the way of
      // delivery, and any TLS beats the plaintext the alternative would be. A handshake refused over
      // an old version would fail the host, not fall back to plaintext, so MX hosts that only speak
      // TLS 1.0/1.1 are accepted here (OpenSSL 3 needs security level 0 for them). No credential is
      // ever sent to an MX host. The smarthost and token endpoints require TLS 1.2.
      tls: { rejectUnauthorized: false, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0', servername: net.isIP(target.host) ? undefined : target.host },
      // Commands and replies only (not the message): how conversation.ts knows the phase.
      logger: this.conversations.logger,
      transactionLog: true,
      debug: false,
    };
  }

  /** Chosen (and checked) once per transport; a name MX hosts may refuse is logged once. */
  private heloName(): Promise<string> {
    this.helo ??= chooseHeloName(this.config, { hostname: this.options.hostname, resolver: this.resolver }).then(({ name, problem }) => {
      if (problem) this.options.log?.warn(problem);
      return name;
    });
    return this.helo;
  }
}

/** `work` over `items`, at most `limit` at a time; results in the order of `items`. */
async function inParallel<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
