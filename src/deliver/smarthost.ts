// The outbound side in smarthost mode: one nodemailer SMTP pool to the configured relay. It sends a
// spooled message as is and reports the result per recipient (classify.ts); it never retries, the
// spool owns every retry.
import dns from 'node:dns/promises';
import net from 'node:net';
import tls from 'node:tls';
import type { NodemailerError, SMTPPoolOptions, SMTPPoolSentMessageInfo, Transporter } from 'nodemailer';
import type { SMTPConnectionCustomAuthContext } from 'nodemailer/lib/smtp-connection';
import { readCaFile } from '../config/ca-file.js';
import { dnsFamily, heloName } from '../config/outbound.js';
import type { Config } from '../config/schema.js';
import { authExchange, preferredMechanism, type SendCommand } from './auth-exchange.js';
import { outcomeOfError, outcomeOfSuccess, type Attempt } from './classify.js';
import { Conversations, type Phase, type Waiting } from './conversation.js';
import { mailFor } from './message-stream.js';
import type { AttemptOutcome } from './outcome.js';
import type { OutgoingMessage } from './transport.js';
import { authFailureHint } from '../oauth/advice.js';
import type { AccessTokenSource } from '../oauth/token.js';
import { asDeliveryError, tokenForDelivery, xoauth2Auth } from '../oauth/xoauth2.js';
import { loadNodemailer } from './nodemailer.js';

const POOL_GAVE_UP = 'Reached maximum number of retries after connection was closed';

type Pool = Transporter<SMTPPoolSentMessageInfo, SMTPPoolOptions>;
export type Timeouts = Partial<Pick<SMTPPoolOptions, 'connectionTimeout' | 'greetingTimeout' | 'socketTimeout'>> & {
  /** Per-phase limits instead of RFC 5321's (conversation.ts); tests shorten them. */
  phases?: Partial<Record<Phase, number>>;
};

export class SmarthostTransport {
  private pool: Promise<Pool> | null = null;
  /** opportunistic with a sign-in method: the pool that neither logs in nor requires TLS, used only
   *  after the server would not start TLS on the signed-in pool (so no credential crosses in the clear). */
  private plainPool: Promise<Pool> | null = null;
  private readonly withholdsLogin: boolean;
  /** "smtp.office365.com[52.96.1.2]:587" once resolved; the configured host:port before. */
  private relay: string;
  private readonly missingPassword: NodemailerError | null;
  private readonly ca: string | undefined;
  /** The token the current pool's connections log in with (OAuth2). */
  private poolToken: string | null = null;
  private readonly conversations: Conversations;

  /**
   * `timeouts` replaces the defaults (connect 30 s, greeting 30 s, then each phase its RFC 5321
   * §4.5.3.2 limit: conversation.ts); tests shorten them.
   */
  constructor(private readonly config: Config, private readonly password: string | null, private readonly timeouts: Timeouts = {},
    /** OAuth2 methods: where the XOAUTH2 login gets its tokens. */
    private readonly tokens: AccessTokenSource | null = null) {
    const { host, port, auth, caFile } = config.smarthost;
    this.relay = `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
    this.missingPassword = auth.method === 'password' && !password
      ? Object.assign(new Error(`no password is stored for ${auth.username} on ${host}; set it in the settings window or with "smtp-relay password set"`), { code: 'EAUTH' })
      : null;
    this.ca = caFile ? readCaFile(caFile) : undefined;
    this.withholdsLogin = config.smarthost.security === 'opportunistic' && (auth.method === 'password' || tokens !== null);
    this.conversations = new Conversations(timeouts.phases);
  }

  /** Deliveries in progress, each with the phase it waits in and since when. */
  waiting(): Waiting[] {
    return this.conversations.waiting();
  }

  /**
   * The pool, connected to one address of the smarthost that we resolve ourselves (honouring
   * delivery.ipFamily), so the log can name the server actually used, as Postfix's relay=host[ip]:port
   * does. The queue manager makes a new transport after a connection failure, which resolves again.
   */
  private connect(): Promise<Pool> {
    this.pool ??= this.createPool(true).catch((e: NodeJS.ErrnoException) => {
      this.pool = null;
      throw e;
    });
    return this.pool;
  }

  /** opportunistic with a sign-in method, once STARTTLS was unavailable: a pool that never logs in. */
  private connectPlain(): Promise<Pool> {
    this.plainPool ??= this.createPool(false).catch((e: NodeJS.ErrnoException) => {
      this.plainPool = null;
      throw e;
    });
    return this.plainPool;
  }

  private async createPool(signIn: boolean): Promise<Pool> {
    const { host, port } = this.config.smarthost;
    let address: string;
    try {
      address = net.isIP(host) ? host : (await dns.lookup(host, { family: dnsFamily(this.config) })).address;
    } catch (e) {
      throw Object.assign(new Error(`cannot resolve ${host}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`), { code: 'EDNS' });
    }
    this.relay = `${host}[${address}]:${port}`;
    const options = poolOptions(this.config, signIn ? this.password : null, address, this.ca, signIn ? this.tokens : null);
    const { phases: _phases, ...timeouts } = this.timeouts;
    return (await loadNodemailer()).createTransport({
      ...options, ...timeouts,
      // Commands and replies only (not the message): how conversation.ts knows each delivery's phase.
      logger: this.conversations.logger, transactionLog: true,
    });
  }

  /**
   * One attempt to hand the message to the smarthost. SMTP and network failures come back as the
   * outcome; only local problems (an unreadable spool file) reject.
   */
  async send(message: OutgoingMessage): Promise<AttemptOutcome> {
    const attempt: Attempt = { recipients: message.envelope.to, relay: this.relay, bodySent: false };
    if (this.missingPassword) return outcomeOfError(attempt, this.missingPassword);
    const tokenFailure = await this.renewToken();
    if (tokenFailure) return this.withAuthHint(outcomeOfError(attempt, tokenFailure));
    let pool: Pool;
    try {
      pool = await this.connect();
    } catch (err) {
      return outcomeOfError(attempt, err as NodemailerError);
    }
    attempt.relay = this.relay;
    const first = await this.sendThrough(pool, attempt, message);
    if (!('noTls' in first)) return first;
    // opportunistic with a sign-in method and no TLS: the message may still go without logging in.
    try {
      pool = await this.connectPlain();
    } catch (err) {
      return outcomeOfError(attempt, err as NodemailerError);
    }
    const second = await this.sendThrough(pool, { ...attempt, bodySent: false }, message);
    return 'noTls' in second ? outcomeOfError(attempt, second.noTls) : this.loginWithheld(second, first.noTls);
  }

  private async sendThrough(pool: Pool, attempt: Attempt, message: OutgoingMessage): Promise<AttemptOutcome | { noTls: NodemailerError }> {
    const { host, port } = this.config.smarthost;
    const conversation = this.conversations.start(`${net.isIPv6(host) ? `[${host}]` : host}:${port}`, message.envelope);
    const { body, mail } = await mailFor(message, attempt, conversation, conversation.signal);
    try {
      const info = await pool.sendMail(mail);
      return this.hidePassword(outcomeOfSuccess(attempt, info));
    } catch (err) {
      let e = err as NodemailerError;
      if (conversation.refused) return { ...conversation.refused, relay: this.relay };
      if (conversation.timedOut) {
        // Only a silence after the final dot may hide a delivery; any earlier one is the server's failure.
        attempt.bodySent = conversation.phase === 'end-of-data';
        e = Object.assign(new Error(conversation.timedOut), { code: 'ETIMEDOUT' });
      }
      // Reading the spool file failed: ours to report, not the destination's.
      if (e.code === 'ESTREAM') throw e;
      if (this.withholdsLogin && startTlsUnavailable(e)) return { noTls: e };
      // maxRequeues 0 turns "closed before the message went out" into this, which reads as if we gave up.
      if (e.message === POOL_GAVE_UP) e.message = 'the connection closed before the message could be sent';
      return this.withAuthHint(this.hidePassword(outcomeOfError(attempt, asDeliveryError(e))));
    } finally {
      // Closes the file also when no connection was made and nothing read it.
      body.destroy();
      this.conversations.finish(conversation);
    }
  }

  /**
   * The result of sending without logging in (opportunistic, no TLS). A server that wanted the login
   * (530, or a 5.7.x/4.7.x policy refusal such as "Relay access denied") gets the message back in the
   * queue with the reason, paused like a refused login: the user must change the security setting or
   * the server, and nothing is bounced for a login we chose not to send.
   */
  private loginWithheld(outcome: AttemptOutcome, tlsError: NodemailerError): AttemptOutcome {
    const wanted = outcome.authFailure || outcome.recipients.some((r) => r.code === 530 || /^[45]\.7\./.test(r.enhanced ?? ''));
    if (!wanted) return outcome;
    const secret = this.config.smarthost.auth.method === 'password' ? 'password' : 'OAuth2 token';
    const refused = tlsError.responseCode === 454 ? 'refused STARTTLS' : 'did not offer STARTTLS';
    const reason = `the server ${refused}, so the ${secret} was not sent (security is "opportunistic"; STARTTLS: ${oneLine(tlsError.response ?? tlsError.message)}); ` +
      `without a login it answered: ${outcome.recipients.find((r) => r.verdict !== 'sent')?.response ?? ''}`;
    const recipients = outcome.recipients.map((r) => (r.verdict === 'sent' ? r : { address: r.address, verdict: 'deferred' as const, response: reason }));
    // Recipients already accepted must be recorded, so a pause (which records nothing) waits for the next message.
    return recipients.some((r) => r.verdict === 'sent') ? { relay: outcome.relay, recipients } : { relay: outcome.relay, authFailure: true, loginWithheld: true, recipients };
  }

  /** Connects, starts TLS and logs in as configured; rejects with nodemailer's error. */
  async verify(): Promise<void> {
    if (this.missingPassword) throw this.missingPassword;
    try {
      const tokenFailure = await this.renewToken();
      if (tokenFailure) throw tokenFailure;
      await (await this.connect()).verify();
    } catch (err) {
      const e = err as NodemailerError;
      if (this.withholdsLogin && startTlsUnavailable(e)) e.message = `the server did not start TLS, so no credential was sent: ${e.message}`;
      e.message = this.hide(e.message);
      if (e.response) e.response = this.hide(e.response);
      const hint = authFailureHint(e.response ?? e.message, this.config.smarthost.auth.method);
      if (hint && e.code === 'EAUTH') e.message += ` (${hint})`;
      throw e;
    }
  }

  /** Closes idle connections now and busy ones after their current message; `force` closes those too,
   *  failing their attempt (a shutdown that waited long enough). */
  close(force = false): void {
    for (const pool of [this.pool, this.plainPool]) void pool?.then((p) => p.close({ force }), () => {});
  }

  /**
   * OAuth2: makes sure a valid token is in hand before dialling, and lets no connection outlive the
   * token it logged in with: when the token is renewed, the pool is replaced (busy connections finish
   * their message first). Returns the failure to report when no token can be had.
   */
  private async renewToken(): Promise<NodemailerError | null> {
    if (!this.tokens) return null;
    const got = await tokenForDelivery(this.tokens);
    if ('error' in got) return got.error;
    if (this.poolToken !== got.token) {
      this.close();
      this.pool = null;
      this.plainPool = null;
      this.poolToken = got.token;
    }
    return null;
  }

  /** A refused login's reply gets what to do about it, for the log and the status (oauth/advice.ts). */
  private withAuthHint(outcome: AttemptOutcome): AttemptOutcome {
    const first = outcome.recipients[0];
    const hint = outcome.authFailure && first ? authFailureHint(first.response, this.config.smarthost.auth.method) : null;
    if (hint) for (const r of outcome.recipients) r.response = `${r.response} (${hint})`;
    return outcome;
  }

  // In case a server echoes what it was sent: the password must not reach the spool, the UI or a log.
  private hide(text: string): string {
    return this.password ? text.replaceAll(this.password, '********') : text;
  }

  private hidePassword(outcome: AttemptOutcome): AttemptOutcome {
    for (const r of outcome.recipients) r.response = this.hide(r.response);
    return outcome;
  }
}

function poolOptions(config: Config, password: string | null, address: string, ca: string | undefined, tokens: AccessTokenSource | null): SMTPPoolOptions & { pool: true } {
  const { host, port, security, verifyCertificate, maxConnections, auth } = config.smarthost;
  const withPassword = auth.method === 'password' && password !== null;
  const signsIn = withPassword || tokens !== null;
  return {
    pool: true,
    host: address,
    port,
    maxConnections,
    maxMessages: 100,
    // The spool owns every retry; a pool requeue could also resend a message whose reply was lost.
    maxRequeues: 0,
    name: heloName(config),
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    // A backstop only: each phase has its own, shorter limit (conversation.ts).
    socketTimeout: 11 * 60_000,
    debug: false,
    secure: security === 'tls',
    // STARTTLS is then sent even when not advertised (so an attacker who strips it from the EHLO reply
    // gains nothing), and its refusal fails the attempt (ETLS) before any AUTH. A pool that logs in with
    // "opportunistic" requires TLS too: nodemailer would send AUTH in the clear to a server that does
    // not offer STARTTLS. Without TLS the transport then tries again on a pool that does not log in.
    requireTLS: security === 'starttls' || (security === 'opportunistic' && signsIn),
    // STARTTLS refused or not offered: go on in plaintext. A failed handshake still fails.
    opportunisticTLS: security === 'opportunistic' && !signsIn,
    ignoreTLS: security === 'none',
    tls: {
      // RFC 8996: nothing older than TLS 1.2, whatever Node's default (--tls-min-v1.0) says.
      minVersion: 'TLSv1.2',
      rejectUnauthorized: verifyCertificate,
      // The certificate is checked against the configured name, not the address we dialled. Never an IP
      // here: SNI must not carry an address (RFC 6066), and Node then checks the IP itself.
      servername: net.isIP(host) ? undefined : host,
      ca: ca ? [...tls.rootCertificates, ca] : undefined,
    },
    auth: withPassword ? { user: auth.username, pass: password ?? undefined, method: auth.mechanism === 'auto' ? undefined : auth.mechanism }
      : tokens ? xoauth2Auth(auth.username, tokens) : undefined,
    // Without a method nodemailer takes PLAIN whenever offered; this handler runs in its place.
    customAuth: withPassword && auth.mechanism === 'auto' ? { PLAIN: loginFirst } : undefined,
  };
}

/**
 * The signed-in pool could not start TLS because the server does not offer STARTTLS or refuses it
 * (a reply to STARTTLS); a failed handshake after a 220 is a TLS failure, not this.
 */
function startTlsUnavailable(e: NodemailerError): boolean {
  return e.code === 'ETLS' && e.command === 'STARTTLS' && typeof e.responseCode === 'number';
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/**
 * mechanism "auto": LOGIN when the server offers it, else PLAIN. Microsoft 365 lists PLAIN but rejects
 * it while LOGIN works; elsewhere the two are equivalent. nodemailer calls this only when it picked
 * PLAIN, so a server offering just LOGIN or CRAM-MD5 gets nodemailer's own implementation.
 */
async function loginFirst({ auth, authMethods, sendCommand }: SMTPConnectionCustomAuthContext): Promise<void> {
  const mechanism = preferredMechanism(authMethods) === 'LOGIN' ? 'LOGIN' : 'PLAIN';
  const send: SendCommand = async (line) => {
    const reply = await sendCommand(line);
    return { code: Number(reply.response.slice(0, 3)), text: reply.response };
  };
  const last = await authExchange(send, mechanism, auth.credentials);
  // nodemailer adds the server's last reply to this message and keeps it as err.response.
  if (last.code !== 235) throw new Error(`AUTH ${mechanism} failed`);
}
