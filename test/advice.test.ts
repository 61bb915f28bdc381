// Each real reply or error string admins meet maps to the right advice.
import { describe, expect, it } from 'vitest';
import { adviceFor, CATALOGUE } from '../src/advice/catalogue.js';
import { authFailureHint } from '../src/oauth/advice.js';

const cases: [string, string][] = [
  ['warning: SASL authentication failure: No worthy mechs found', 'no-common-mechanism'],
  ['SASL authentication failed; server smtp.example.com[192.0.2.10] offered no supported AUTH mechanisms: \'GSSAPI\'', 'no-common-mechanism'],
  ['530 5.7.57 Client not authenticated to send mail. Error: 530 5.7.57 SMTP; Client was not authenticated to send anonymous mail during MAIL FROM [BN6PR1101CA0003.namprd11.prod.outlook.com]', 'm365-anonymous'],
  ['530 5.7.0 Must issue a STARTTLS command first', 'must-starttls'],
  ['504 5.7.4 Unrecognized authentication type [SN4PR0601CA0012.namprd06.prod.outlook.com 2026-11-22T09:14:03.120Z 08DD1234]', 'mechanism-unrecognized'],
  ['535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [AM0PR02CA0001.eurprd02.prod.outlook.com]', 'm365-smtp-auth-disabled'],
  ['550 5.7.30 Basic authentication is not supported for Client Submission.', 'm365-basic-auth-off'],
  ['554 5.2.252 SendAsDenied; jts@contoso.com not allowed to send as app@jts.localdomain; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied', 'm365-send-as-denied'],
  ['534-5.7.9 Application-specific password required. Learn more at\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor d2-20020a05600c3a8200b0040c4ee8ca2esm1234wmq.0 - gsmtp', 'gmail-app-password'],
  ['535-5.7.8 Username and Password not accepted. Learn more at\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials a1sm123456wmb.1 - gsmtp', 'gmail-bad-credentials'],
  ['535 5.7.3 Authentication unsuccessful [DB8PR09CA0011.eurprd09.prod.outlook.com]', 'auth-failed'],
  ['432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded [Hostname=AM6PR02MB1234.eurprd02.prod.outlook.com]', 'too-many-connections'],
  ['C0A8F1D4E37F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:355:', 'tls-wrong-version'],
  ['self-signed certificate in certificate chain', 'certificate-untrusted'],
  ['unable to verify the first certificate', 'certificate-untrusted'],
  ['certificate has expired', 'certificate-expired'],
  ["Hostname/IP does not match certificate's altnames: Host: mail.contoso.com. is not in the cert's altnames: DNS:relay.contoso.local", 'certificate-name-mismatch'],
  ['connect ECONNREFUSED 52.96.91.34:587', 'connection-refused'],
  ['connect ETIMEDOUT 52.96.91.34:25', 'connection-timeout'],
  ['Greeting never received', 'connection-timeout'],
  ['cannot listen on 127.0.0.1:25: the port is already in use by another program (often the IIS SMTP service or another mail server)', 'listen-port-in-use'],
  ['listen EADDRINUSE: address already in use 127.0.0.1:25', 'listen-port-in-use'],
  ['cannot resolve smtp.offce365.com: ENOTFOUND', 'dns-not-found'],
  ['500 5.5.1 Unrecognized command (in reply to STARTTLS)', 'starttls-not-offered'],
  ["The OS keychain is not available: Couldn't access platform secure storage: Windows ERROR_NO_SUCH_LOGON_SESSION.", 'windows-no-logon-session'],
];

describe('error -> advice catalogue', () => {
  it.each(cases)('%s', (text, id) => {
    expect(adviceFor(text)?.id).toBe(id);
  });

  it('says nothing for replies it does not know', () => {
    expect(adviceFor('250 2.0.0 OK')).toBeNull();
    expect(adviceFor('')).toBeNull();
  });

  it('every entry has a cause and a fix, and is reachable from a real string', () => {
    const reached = new Set(cases.map(([, id]) => id));
    // The OAuth2 entries apply under their sign-in method only: test/oauth.test.ts reaches them.
    for (const a of CATALOGUE.filter((e) => !e.oauth)) {
      expect(a.cause.length).toBeGreaterThan(20);
      expect(a.fix.length).toBeGreaterThan(20);
      expect(reached.has(a.id), `no test string reaches ${a.id}`).toBe(true);
    }
  });
});

describe('Microsoft 365 basic authentication: the schedule as announced (MC786329, updated 27 January 2026)', () => {
  it('a refused password login says when it changes, that admins can turn it back on for now, and points to OAuth2', () => {
    const advice = adviceFor('550 5.7.30 Basic authentication is not supported for Client Submission.');
    const text = `${advice?.cause} ${advice?.fix}`;
    expect(text).toContain('MC786329, updated 27 January 2026');
    expect(text).toContain('no change until December 2026');
    expect(text).toContain('off by default for existing tenants, and administrators can turn it back on');
    expect(text).toContain('final removal will be announced in the second half of 2027');
    expect(text).toContain('"oauth2-microsoft"');
    expect(text).not.toMatch(/end of 2026/);
    expect(authFailureHint('550 5.7.30 Basic authentication is not supported for Client Submission.', 'password')).toContain('second half of 2027');
  });
});
