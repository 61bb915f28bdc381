// A scripted SMTP server on loopback that plays the smarthost (or an MX) in integration tests.
//
//   const up = await startUpstream({ auth: { user: 'u', pass: 'p' }, replies: { rcpt: { 'bad@x': { code: 550, message: '5.1.1 No such user' } } } });
//   ... deliver to 127.0.0.1:up.port ...
//   expect(up.messages[0].raw).toEqual(bytes); expect(up.commands).toContain('MAIL FROM:<>');
//   await up.stop();
//
// Every message that reaches the end of DATA is recorded before the server replies (so it is there
// even when the reply is an error or never sent), with the envelope, the exact bytes, whether TLS was
// on and how the client authenticated. Every command line is recorded too (AUTH payloads redacted by
// smtp-server), which shows what a client did NOT send, e.g. no MAIL FROM after a failed STARTTLS.
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { testCertificates } from './tls.js';

export interface ScriptedReply {
  code: number;
  /** Text after the code, e.g. "5.1.1 User unknown". */
  message: string;
}

export interface UpstreamOptions {
  /**
   * offered (default): advertised and working; hidden: works but not advertised (smtp-server's
   * hideSTARTTLS); disabled: refused like an unknown command. Ignored with implicitTls.
   */
  starttls?: 'offered' | 'hidden' | 'disabled';
  /** TLS from the first byte, as on port 465. */
  implicitTls?: boolean;
  /** Require AUTH before MAIL FROM, accepting only this user and password. Without it AUTH is not offered. */
  auth?: {
    user: string;
    pass: string;
    /** Mechanisms advertised, in this order (default PLAIN LOGIN); any of PLAIN, LOGIN, CRAM-MD5. */
    methods?: string[];
    /** Offer AUTH but take mail without it too (smtp-server's authOptional). */
    optional?: boolean;
  };
  /** Replies that replace the default acceptance at each step. */
  replies?: {
    /** Instead of the greeting (the server then closes the connection). */
    connect?: ScriptedReply;
    mailFrom?: ScriptedReply;
    /** By recipient address exactly as the client sent it; recipients not listed are accepted. */
    rcpt?: Record<string, ScriptedReply>;
    /** After the final dot. */
    data?: ScriptedReply;
  };
  /** Drop the connection after the final dot instead of replying: the client never learns the outcome. */
  closeAfterData?: boolean;
  /** SIZE limit to advertise. */
  size?: number;
  /** Extensions not to announce (an older server). */
  hide?: ('8BITMIME' | 'SMTPUTF8')[];
  /** Wait this long before answering the final dot (a slow or busy smarthost). */
  dataReplyDelayMs?: number;
  /** Listen on this port (to bring a smarthost "back up" where the relay expects it); default: any free port. */
  port?: number;
  /** Listen on this loopback address (127.0.0.2, ::1 …: MX hosts sharing one port); default 127.0.0.1. */
  host?: string;
  /** TLS settings of the server (e.g. maxVersion "TLSv1.1" for an outdated one). */
  tls?: Pick<SMTPServerOptions, 'minVersion' | 'maxVersion' | 'ciphers'>;
}

export interface ReceivedMessage {
  /** MAIL FROM address; '' for the null sender <>. */
  from: string;
  to: string[];
  /** The DATA bytes exactly as received, dot-unstuffed, without the final ".\r\n". */
  raw: Buffer;
  /** TLS was active (implicit or after STARTTLS). */
  secure: boolean;
  authUser: string | null;
  /** SASL mechanism the client used: PLAIN, LOGIN, CRAM-MD5. */
  authMethod: string | null;
}

export interface Upstream {
  host: string;
  port: number;
  messages: ReceivedMessage[];
  /** Every command line received, in order, over all connections. */
  commands: string[];
  /** Closes the listener and any connection still open. */
  stop(): Promise<void>;
}

interface AuthenticatedUser {
  username: string;
  method: string;
}

export async function startUpstream(options: UpstreamOptions = {}): Promise<Upstream> {
  const { key, cert } = await testCertificates();
  const replies = options.replies ?? {};
  const messages: ReceivedMessage[] = [];
  const commands: string[] = [];
  const starttls = options.starttls ?? 'offered';

  const serverOptions: SMTPServerOptions = {
    key,
    cert,
    ...options.tls,
    secure: options.implicitTls ?? false,
    hideSTARTTLS: starttls === 'hidden',
    disabledCommands: [...(options.auth ? [] : ['AUTH']), ...(starttls === 'disabled' ? ['STARTTLS'] : [])],
    authMethods: options.auth?.methods ?? ['PLAIN', 'LOGIN'],
    authOptional: options.auth?.optional ?? false,
    // Tests cover AUTH without TLS too (security "none"); smtp-server would answer 538 otherwise.
    allowInsecureAuth: true,
    size: options.size,
    hide8BITMIME: options.hide?.includes('8BITMIME'),
    hideSMTPUTF8: options.hide?.includes('SMTPUTF8'),
    disableReverseLookup: true,
    closeTimeout: 500,
    // smtp-server logs each command line at debug level; that is the only place it shows them all.
    logger: {
      debug(entry: { tnx?: string }, _message: string, line: string) {
        if (entry.tnx === 'command') commands.push(line);
      },
    },
    onConnect(_session, callback) {
      callback(replies.connect ? smtpError(replies.connect) : null);
    },
    onAuth(auth, _session, callback) {
      const expected = options.auth;
      const passwordOk = auth.method === 'CRAM-MD5'
        ? auth.validatePassword(expected?.pass ?? '')
        : auth.password === expected?.pass;
      if (expected && auth.username === expected.user && passwordOk) {
        const user: AuthenticatedUser = { username: auth.username, method: auth.method };
        callback(null, { user });
      } else {
        callback(null, { message: '5.7.8 Authentication credentials invalid', responseCode: 535 });
      }
    },
    onMailFrom(_address, _session, callback) {
      callback(replies.mailFrom ? smtpError(replies.mailFrom) : null);
    },
    onRcptTo(address, _session, callback) {
      const reply = replies.rcpt?.[address.address];
      callback(reply ? smtpError(reply) : null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        messages.push(received(session, Buffer.concat(chunks)));
        if (options.closeAfterData) {
          // No reply at all: close this client's connection as if the server had crashed.
          [...server.connections].find((c) => c.id === session.id)?.close();
          return;
        }
        const answer = () => (replies.data ? callback(smtpError(replies.data)) : callback(null, 'OK: queued'));
        if (options.dataReplyDelayMs) setTimeout(answer, options.dataReplyDelayMs);
        else answer();
      });
    },
  };
  const server = new SMTPServer(serverOptions);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A client that misbehaves on purpose in a test must not crash the test run.
  server.on('error', () => {});

  return {
    host: options.host ?? '127.0.0.1',
    port: (server.server.address() as AddressInfo).port,
    messages,
    commands,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function received(session: SMTPServerSession, raw: Buffer): ReceivedMessage {
  const mailFrom = session.envelope.mailFrom;
  const user = session.user as AuthenticatedUser | undefined;
  return {
    from: mailFrom ? mailFrom.address : '',
    to: session.envelope.rcptTo.map((r) => r.address),
    raw,
    secure: session.secure,
    authUser: user?.username ?? null,
    authMethod: user?.method ?? null,
  };
}

function smtpError(reply: ScriptedReply): Error {
  return Object.assign(new Error(reply.message), { responseCode: reply.code });
}
