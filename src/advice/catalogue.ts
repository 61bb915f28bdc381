// Error -> advice: the one table that turns a server reply or a system error into a plain-language
// cause and the fix, for the status, the log, the CLI and the settings window alike. The patterns are
// the real texts admins meet (Postfix SASL warnings, Microsoft 365 and Gmail replies, OpenSSL and Node
// errors), most specific first.

import type { Advice } from '../api/contract.js';
import type { CatalogueEntry, OAuthProvider } from './entry.js';
import { OAUTH_ENTRIES } from './oauth-entries.js';

export type { Advice };

/** Microsoft's schedule for SMTP AUTH with a password (message center MC786329, updated 27 January 2026). */
export const M365_BASIC_AUTH_TIMELINE =
  'Microsoft\'s schedule (MC786329, updated 27 January 2026): no change until December 2026; then basic authentication is off by default for existing tenants, ' +
  'and administrators can turn it back on; the date of its final removal will be announced in the second half of 2027.';

/** Exported for the test that every entry is reachable from a real reply or error text. */
export const CATALOGUE: readonly CatalogueEntry[] = [
  // First: under OAuth2, a refused token reads like a refused password to the general entries below.
  ...OAUTH_ENTRIES,
  {
    id: 'm365-basic-auth-off',
    match: /5\.7\.30\b.*basic authentication is not supported/is,
    cause: `Microsoft 365 does not accept a password (basic authentication) for SMTP submission on this tenant. ${M365_BASIC_AUTH_TIMELINE}`,
    fix: 'Switch smarthost.auth.method to "oauth2-microsoft" and register an app with the SMTP.SendAsApp permission (see the README, "Microsoft 365 with OAuth2"). ' +
      'Turning basic authentication back on for the tenant only lasts until Microsoft removes it for good.',
  },
  {
    id: 'm365-smtp-auth-disabled',
    match: /5\.7\.139\b/,
    cause: 'SMTP AUTH is turned off for this Microsoft 365 tenant or mailbox (the default for tenants created since 2020, and with Security defaults on).',
    fix: 'Enable it for the mailbox (Exchange admin center > mailbox > Email apps > Authenticated SMTP, or `Set-CASMailbox -Identity jts@contoso.com -SmtpClientAuthenticationDisabled $false`), or use smarthost.auth.method "oauth2-microsoft".',
  },
  {
    id: 'm365-send-as-denied',
    match: /5\.2\.252\b|SendAsDenied/i,
    cause: 'The sender address of the message is not the mailbox the relay logs in as, and that mailbox may not send as it.',
    fix: 'Set rewrite.forceSender to the login mailbox (the original From is kept in Reply-To), add a rewrite.senders rule, or grant the mailbox "Send As" rights for that address.',
  },
  {
    id: 'm365-anonymous',
    match: /not authenticated to send anonymous mail|5\.7\.57\b/i,
    cause: 'The server requires the relay to log in before it accepts mail (Microsoft 365 answers this to an anonymous client).',
    fix: 'Set smarthost.auth.method to "password" with the mailbox as auth.username, store its password, and use port 587 with security "starttls".',
  },
  {
    id: 'must-starttls',
    match: /must issue a STARTTLS command first|5\.7\.0 .*STARTTLS/i,
    cause: 'The server accepts mail (and passwords) only over an encrypted connection.',
    fix: 'Set smarthost.security to "starttls" (port 587) or "tls" (port 465).',
  },
  {
    id: 'gmail-app-password',
    match: /5\.7\.9\b.*(application-specific password|InvalidSecondFactor)/is,
    cause: 'Gmail requires an app password for this account (it has 2-Step Verification).',
    fix: 'Create an app password (Google Account > Security > App passwords; 16 letters) and store it with "smtp-relay password set", or use smarthost.auth.method "oauth2-google".',
  },
  {
    id: 'gmail-bad-credentials',
    match: /5\.7\.8\b.*(Username and Password not accepted|BadCredentials)/is,
    cause: 'Gmail did not accept the username and password.',
    fix: 'Check auth.username (the full address). Normal Gmail passwords do not work for SMTP since September 2024: use an app password or OAuth2.',
  },
  {
    id: 'mechanism-unrecognized',
    match: /504 5\.7\.4\b|Unrecognized authentication type/i,
    cause: 'The server refused the login method the relay used (Microsoft 365 refuses PLAIN).',
    fix: 'Set smarthost.auth.mechanism to "auto" (it prefers LOGIN) or "LOGIN".',
  },
  {
    id: 'no-common-mechanism',
    match: /no worthy mechs|offered no supported AUTH mechanisms|no supported authentication mechanism|Unknown authentication method/i,
    cause: 'The server offers no login method the relay can use on this connection; many servers offer AUTH only after STARTTLS.',
    fix: 'Use security "starttls" (or "tls" on port 465) and auth.mechanism "auto".',
  },
  {
    id: 'too-many-connections',
    match: /432 4\.3\.2\b|concurrent connection limit|sender thread limit exceeded/i,
    cause: 'The server limits how many connections one mailbox may hold at once (Microsoft 365: 3).',
    fix: 'Lower smarthost.maxConnections to 3 or less. The mail waits and is retried by itself.',
  },
  {
    id: 'auth-failed',
    match: /^535\b|\b535[ -]5\.7\.\d+|Authentication (unsuccessful|failed|credentials invalid)|Invalid login/im,
    cause: 'The server refused the username or password.',
    fix: 'Check smarthost.auth.username and store the password again ("smtp-relay password set" or the settings window). If the account uses multi-factor sign-in, an app password or OAuth2 is needed.',
  },
  {
    id: 'tls-wrong-version',
    match: /wrong version number|first record does not look like a TLS handshake|packet length too long|unknown protocol/i,
    cause: 'TLS was started the wrong way for this port: implicit TLS against a STARTTLS port (587, 25), or plain SMTP against an implicit-TLS port (465).',
    fix: 'Use port 587 with security "starttls", or port 465 with security "tls".',
  },
  {
    id: 'starttls-not-offered',
    match: /STARTTLS.*(not (supported|offered|advertised))|(in reply to STARTTLS)|TLS is required, but was not offered/i,
    cause: 'The server does not offer STARTTLS on this port, and the relay never sends mail in plaintext when "starttls" is set.',
    fix: 'Check host and port (Microsoft 365 and Gmail: 587). Use "tls" if the port is 465. Choose "opportunistic" or "none" only for a server inside your own network.',
  },
  {
    id: 'certificate-expired',
    match: /certificate has expired|CERT_HAS_EXPIRED/i,
    cause: 'The server\'s certificate has expired.',
    fix: 'Ask the server\'s administrator to renew it. Mail waits meanwhile; turning smarthost.verifyCertificate off is not recommended.',
  },
  {
    id: 'certificate-name-mismatch',
    match: /does not match certificate|ERR_TLS_CERT_ALTNAME_INVALID|altnames/i,
    cause: 'The server\'s certificate is for another name than smarthost.host.',
    fix: 'Set smarthost.host to a name the certificate lists (the test-connection output shows the certificate subject), not an IP address or alias.',
  },
  {
    id: 'certificate-untrusted',
    match: /self[- ]signed certificate|unable to verify the first certificate|unable to get local issuer certificate|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT|certificate not trusted/i,
    cause: 'The server\'s certificate is not signed by an authority this computer trusts (typical of a company relay with its own CA).',
    fix: 'Point smarthost.caFile at the CA certificate (PEM) that signed it.',
  },
  {
    id: 'windows-no-logon-session',
    // How @napi-rs/keyring reports CredWriteW's ERROR_NO_SUCH_LOGON_SESSION (1312), and Windows' own text for it.
    match: /ERROR_NO_SUCH_LOGON_SESSION|Windows error code 1312\b|specified logon session does not exist/i,
    cause: 'Windows Credential Manager cannot store a secret from this session: a remote PowerShell (WinRM, Enter-PSSession) or SSH session has no logon session with a credential store.',
    fix: 'Run the command again at the console or in a Remote Desktop session, signed in as the user the relay runs as. ' +
      'Or, with the relay running as a service, run it while the service is running: the command then sends the secret over the control channel and the service stores it.',
  },
  {
    id: 'listen-port-in-use',
    match: /EADDRINUSE|port is already in use/i,
    cause: 'Another program already listens on the relay\'s port; on Windows servers it is often the IIS SMTP service (SMTPSVC) or hMailServer.',
    fix: 'Stop and disable that service (`Stop-Service SMTPSVC; Set-Service SMTPSVC -StartupType Disabled`), or choose another listen.port and point the applications at it.',
  },
  {
    id: 'dns-not-found',
    match: /ENOTFOUND|EAI_AGAIN|cannot resolve|getaddrinfo/i,
    cause: 'The smarthost\'s name could not be resolved.',
    fix: 'Check the spelling of smarthost.host and this computer\'s DNS settings (`Resolve-DnsName smtp.office365.com`).',
  },
  {
    id: 'connection-refused',
    match: /ECONNREFUSED|connection refused/i,
    cause: 'Nothing accepts connections at that address and port, or a firewall rejects them.',
    fix: 'Check smarthost.host and smarthost.port; test with `Test-NetConnection smtp.office365.com -Port 587`; allow outbound connections to that port in the firewall.',
  },
  {
    id: 'connection-timeout',
    match: /ETIMEDOUT|timed out|timeout|Greeting never received/i,
    cause: 'The connection got no answer: usually a firewall or the provider silently dropping outbound SMTP (port 25 is often blocked; 587 is not).',
    fix: 'Use port 587 with "starttls"; test with `Test-NetConnection <host> -Port 587`; ask the network administrator to allow it.',
  },
];

/** Where the text came from: the sign-in method in force (OAuth2 entries apply only under theirs), the smarthost. */
export interface AdviceContext {
  /** smarthost.auth.method. */
  method?: string;
  /** Given, the example commands name it instead of Microsoft 365's (`Test-NetConnection HOST -Port PORT`). */
  smarthost?: { host: string; port: number };
}

/** The advice for a reply or error text, or null when nothing in the catalogue fits. */
export function adviceFor(text: string | null | undefined, context: AdviceContext = {}): Advice | null {
  if (!text) return null;
  const provider = providerOf(context.method);
  const hit = CATALOGUE.find((e) => (!e.oauth || e.oauth === 'any' || e.oauth === provider) && e.match.test(text));
  if (!hit) return null;
  const { smarthost } = context;
  const fix = smarthost?.host
    ? hit.fix.replace(/(Test-NetConnection|Resolve-DnsName) (smtp\.office365\.com|<host>)( -Port 587)?/g, (_, cmd: string, _h, port?: string) => `${cmd} ${smarthost.host}${port ? ` -Port ${smarthost.port}` : ''}`)
    : hit.fix;
  return { id: hit.id, cause: hit.cause, fix };
}

/** Only the OAuth2 entries: what a token failure means under `method`, or null. */
export function oauthAdviceFor(text: string | null | undefined, method: string): Advice | null {
  if (!text) return null;
  const provider = providerOf(method);
  const hit = OAUTH_ENTRIES.find((e) => (e.oauth === 'any' || e.oauth === provider) && e.match.test(text));
  return hit ? { id: hit.id, cause: hit.cause, fix: hit.fix } : null;
}

function providerOf(method: string | undefined): OAuthProvider | null {
  return method === 'oauth2-microsoft' ? 'microsoft' : method === 'oauth2-google' ? 'google' : null;
}
