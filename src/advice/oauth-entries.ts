// What an OAuth2 failure means and what the admin does about it: the identity platform's error codes
// (AADSTS…, invalid_grant …) and the smarthost's refusal of a token. Part of the one advice table
// (catalogue.ts), where they come before the general entries: a refused token reads like a refused password.
import type { CatalogueEntry } from './entry.js';

const SMTP_SETUP = 'give the app access to the mailbox in Exchange Online PowerShell: `New-ServicePrincipal -AppId <clientId> -ObjectId <object ID of the enterprise application>` ' +
  '(older versions of the module: `-ServiceId`), then `Add-MailboxPermission -Identity <mailbox> -User <Identity> -AccessRights FullAccess` with the service principal\'s Identity ' +
  'as `Get-ServicePrincipal` shows it; SMTP AUTH must be on for the mailbox ' +
  '(`Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled $false`). Changes can take 30 minutes to apply.';

/** The identity platforms' error codes and the smarthost's refusal of a token, per provider. */
export const OAUTH_ENTRIES: readonly CatalogueEntry[] = [
  {
    oauth: 'any', id: 'token-endpoint-unreachable', match: /cannot reach the .* token endpoint|token endpoint .* is not available/,
    cause: 'The identity platform could not be reached; the mail waits and delivery is retried by itself.',
    fix: 'Check that this computer can open https://login.microsoftonline.com (Microsoft) or https://oauth2.googleapis.com (Google): proxy and firewall rules. A TLS-inspecting proxy\'s CA certificate goes in smarthost.caFile.',
  },
  {
    oauth: 'microsoft', id: 'entra-secret-invalid', match: /AADSTS7000215/,
    cause: 'Microsoft Entra ID did not accept the client secret.',
    fix: 'Store the secret\'s Value (not its Secret ID) from App registrations > Certificates & secrets with "smtp-relay password set" or in the settings window.',
  },
  {
    oauth: 'microsoft', id: 'entra-secret-expired', match: /AADSTS7000222/,
    cause: 'The app\'s client secret has expired.',
    fix: 'Create a new client secret under App registrations > Certificates & secrets and store it with "smtp-relay password set".',
  },
  {
    oauth: 'microsoft', id: 'entra-app-not-found', match: /AADSTS700016/,
    cause: 'The tenant has no application with this client ID.',
    fix: 'Copy smarthost.auth.clientId (Application (client) ID) and smarthost.auth.tenantId (Directory (tenant) ID) from the app registration\'s Overview page.',
  },
  {
    oauth: 'microsoft', id: 'entra-tenant-not-found', match: /AADSTS(90002|900023|90013)\b/,
    cause: 'Microsoft Entra ID does not know this tenant.',
    fix: 'Set smarthost.auth.tenantId to the Directory (tenant) ID (a GUID) or the tenant\'s domain, e.g. contoso.onmicrosoft.com.',
  },
  {
    oauth: 'microsoft', id: 'entra-certificate-unknown', match: /AADSTS(700027|700023|50012)\b|certificate .*not registered/i,
    cause: 'The certificate the relay signs with is not registered on the app, or its key does not match.',
    fix: 'Upload the certificate (public part, .cer) under App registrations > Certificates & secrets > Certificates, and import the same certificate with its private key using "smtp-relay oauth import-certificate FILE.pem".',
  },
  {
    oauth: 'microsoft', id: 'entra-scope-invalid', match: /AADSTS(1002012|70011|500011)\b/,
    cause: 'The token was asked for a scope or resource this tenant does not have.',
    fix: 'Leave smarthost.auth.scope empty (https://outlook.office365.com/.default); in a sovereign cloud use that cloud\'s Exchange address with /.default.',
  },
  {
    oauth: 'microsoft', id: 'entra-app-disabled', match: /AADSTS(7000112|7000113)\b/,
    cause: 'The application is disabled in the tenant.',
    fix: 'Enable it under Enterprise applications > the app > Properties ("Enabled for users to sign in").',
  },
  {
    oauth: 'microsoft', id: 'exchange-token-refused', match: /\b535[ -]5\.7\.3\b|Authentication unsuccessful/i,
    cause: 'Microsoft Entra ID issued a token, but Exchange Online refused it for this mailbox.',
    fix: `Grant admin consent for the Office 365 Exchange Online permission SMTP.SendAsApp, then ${SMTP_SETUP}`,
  },
  {
    oauth: 'google', id: 'google-refresh-token-revoked', match: /invalid_grant.*(expired or revoked|revoked|expired)/is,
    cause: 'Google no longer accepts the stored refresh token: it was revoked, the account\'s password changed, or the app is External and still in "Testing" (Google expires those sign-ins after 7 days).',
    fix: 'Sign in again with "smtp-relay oauth login" (or the settings window). So that it does not expire again: Google Cloud console > Google Auth Platform > Audience > "Publish app" (In production), ' +
      'or user type Internal when the mailbox is in your Google Workspace.',
  },
  {
    oauth: 'google', id: 'google-clock', match: /invalid_grant.*(iat|exp\b|timeframe)/is,
    cause: 'Google refused the signed request because this computer\'s clock is off.',
    fix: 'Set the clock right (Windows: `w32tm /resync`, or turn on "Set time automatically").',
  },
  {
    oauth: 'google', id: 'google-user-unknown', match: /invalid_grant.*Invalid email or User ID/is,
    cause: 'Google does not know the mailbox the service account should act for.',
    fix: 'Set smarthost.auth.username to a user (not a group or alias) of the Google Workspace domain.',
  },
  {
    oauth: 'google', id: 'google-key-invalid', match: /invalid_grant.*(JWT Signature|account not found)|invalid_client.*(key|signature)/is,
    cause: 'The service-account key was deleted or disabled, or the service account no longer exists.',
    fix: 'Create a new JSON key for the service account (Google Cloud console > IAM > Service accounts > Keys) and import it with "smtp-relay oauth import-key FILE.json".',
  },
  {
    oauth: 'google', id: 'google-delegation-missing', match: /unauthorized_client/,
    cause: 'The service account may not act for users of the domain with the Gmail scope (domain-wide delegation is missing).',
    fix: 'Google Admin console > Security > Access and data control > API controls > Domain-wide delegation: add the service account\'s client ID (the number) with the scope https://mail.google.com/.',
  },
  {
    oauth: 'google', id: 'google-client-invalid', match: /invalid_client/,
    cause: 'Google did not accept the OAuth client ID or its client secret.',
    fix: 'Check smarthost.auth.clientId and store the client secret of that "Desktop app" client with "smtp-relay password set".',
  },
  {
    oauth: 'google', id: 'gmail-token-refused', match: /\b5\.7\.[89]\b|Username and Password not accepted/i,
    cause: 'Gmail refused the token for this mailbox.',
    fix: 'smarthost.auth.username must be the account that signed in (installed app) or a user of the delegated domain (service account), and the scope https://mail.google.com/.',
  },
];
