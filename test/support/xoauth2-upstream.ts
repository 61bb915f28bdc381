// A smarthost on loopback (STARTTLS with the test CA) that plays Exchange Online or Gmail for the
// OAuth2 tests: it offers AUTH XOAUTH2 only and accepts a token only while the token server says it
// is valid and only for a mailbox the token may send as. Like a strict server, it also refuses to
// carry on a session whose token has expired since the login (421 at MAIL FROM), so a relay that
// kept a connection beyond its token's life would fail a delivery.
//
// With `passwordReply` it plays a Microsoft 365 tenant with basic authentication off instead: it
// offers LOGIN and PLAIN and refuses every password with that reply.
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerSession } from 'smtp-server';
import { testCertificates } from './tls.js';
import type { TokenServer } from './token-server.js';

export interface OAuthUpstreamOptions {
  tokens: TokenServer;
  /** How a refused token is answered: Exchange's 535 5.7.3 at once, or Gmail's 334 challenge then 535. */
  provider: 'microsoft' | 'google';
  /** Mailboxes an app-only (Microsoft) token may send as: the Add-MailboxPermission grants. */
  mailboxes?: string[];
  /** Refuse every password login with this reply (basic auth switched off). */
  passwordReply?: { code: number; message: string };
}

export interface OAuthUpstream {
  port: number;
  messages: { from: string; to: string[]; user: string; token: string }[];
  /** Every login attempt: the token (or "password"), the user, and whether it was accepted. */
  logins: { user: string; token: string; ok: boolean }[];
  stop(): Promise<void>;
}

interface SessionUser {
  user: string;
  token: string;
}

export async function startOAuthUpstream(opts: OAuthUpstreamOptions): Promise<OAuthUpstream> {
  const { key, cert } = await testCertificates();
  const messages: OAuthUpstream['messages'] = [];
  const logins: OAuthUpstream['logins'] = [];
  const mailboxes = new Set(opts.mailboxes ?? []);
  const server = new SMTPServer({
    key, cert,
    authMethods: opts.passwordReply ? ['LOGIN', 'PLAIN'] : ['XOAUTH2'],
    disableReverseLookup: true,
    closeTimeout: 500,
    logger: false,
    onAuth(auth: SMTPServerAuthentication, _session, callback) {
      if (opts.passwordReply) {
        logins.push({ user: auth.username ?? '', token: 'password', ok: false });
        return callback(Object.assign(new Error(opts.passwordReply.message), { responseCode: opts.passwordReply.code }));
      }
      const token = auth.accessToken ?? '';
      const valid = opts.tokens.check(token);
      const user = auth.username ?? '';
      // Google tokens act for one user; Microsoft app-only tokens for the mailboxes the app was given.
      const ok = valid !== undefined && (valid.subject === null ? mailboxes.has(user) : valid.subject === user);
      logins.push({ user, token, ok });
      if (ok) return callback(null, { user: { user, token } satisfies SessionUser });
      if (opts.provider === 'microsoft') return callback(Object.assign(new Error('5.7.3 Authentication unsuccessful [TEST.PROD.OUTLOOK.COM]'), { responseCode: 535 }));
      // Gmail's way: a 334 with the error, then 535 after the client's empty line.
      callback(null, { data: { status: '401', schemes: 'bearer', scope: 'https://mail.google.com/' } });
    },
    onMailFrom(_address, session, callback) {
      const u = session.user as SessionUser | undefined;
      if (u && !opts.tokens.check(u.token)) return callback(Object.assign(new Error('4.7.0 Session token expired, reconnect'), { responseCode: 421 }));
      callback();
    },
    onData(stream, session: SMTPServerSession, callback) {
      const u = session.user as SessionUser;
      stream.on('data', () => {});
      stream.on('end', () => {
        messages.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), user: u.user, token: u.token });
        callback(null, 'OK: queued');
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.on('error', () => {});
  return {
    port: (server.server.address() as AddressInfo).port,
    messages,
    logins,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
