// The AUTH exchange (RFC 4954) as the relay performs it, for delivery (inside nodemailer's connection)
// and for test-connection (on its own probe), so that the test logs in exactly as delivery will.
import crypto from 'node:crypto';

export type Mechanism = 'LOGIN' | 'PLAIN' | 'CRAM-MD5' | 'XOAUTH2';

/** Sends one command line and resolves with the server's reply. */
export type SendCommand = (line: string) => Promise<{ code: number; text: string }>;

export interface AuthCredentials {
  user: string;
  pass?: string;
  /** An OAuth2 access token (XOAUTH2). */
  token?: string;
}

/** mechanism "auto": what the relay uses among the mechanisms a server offers (LOGIN before PLAIN). */
export function preferredMechanism(offered: string[]): 'LOGIN' | 'PLAIN' | 'CRAM-MD5' | undefined {
  return (['LOGIN', 'PLAIN', 'CRAM-MD5'] as const).find((m) => offered.includes(m));
}

/** Runs the exchange for `mechanism`; resolves with the last reply (235: signed in), stopping at the first unexpected one. */
export async function authExchange(send: SendCommand, mechanism: Mechanism, c: AuthCredentials): Promise<{ code: number; text: string }> {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  const pass = c.pass ?? '';
  if (mechanism === 'XOAUTH2') return send(`AUTH XOAUTH2 ${b64(`user=${c.user}\x01auth=Bearer ${c.token ?? ''}\x01\x01`)}`);
  if (mechanism === 'PLAIN') return send(`AUTH PLAIN ${b64(`\0${c.user}\0${pass}`)}`);
  if (mechanism === 'LOGIN') {
    let r = await send('AUTH LOGIN');
    if (r.code === 334) r = await send(b64(c.user));
    if (r.code === 334) r = await send(b64(pass));
    return r;
  }
  let r = await send('AUTH CRAM-MD5');
  if (r.code === 334) {
    const challenge = Buffer.from(r.text.slice(4), 'base64').toString();
    r = await send(b64(`${c.user} ${crypto.createHmac('md5', pass).update(challenge).digest('hex')}`));
  }
  return r;
}
