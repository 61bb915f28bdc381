// The set-up steps outside the relay, per provider and credential, with the configured values filled
// in: shown by the settings window and by `smtp-relay oauth checklist` (and written out in the README).
import type { Config } from '../config/schema.js';
import { credentialKind } from './credential-kind.js';

export function oauthChecklist(config: Config): string[] {
  const a = config.smarthost.auth;
  const v = (value: string, placeholder: string) => value || placeholder;
  const mailbox = v(a.username, '<mailbox>');
  const kind = credentialKind(config);
  if (a.method === 'oauth2-microsoft') {
    return [
      'Microsoft Entra admin center > App registrations > New registration: single tenant, no redirect URI. ' +
        'Copy "Application (client) ID" to smarthost.auth.clientId and "Directory (tenant) ID" to smarthost.auth.tenantId.',
      'API permissions > Add a permission > APIs my organization uses > Office 365 Exchange Online > Application permissions > SMTP.SendAsApp; then "Grant admin consent".',
      kind === 'certificate'
        ? 'Certificates & secrets > Certificates > Upload the certificate (.cer, public part); import the same certificate with its private key here: smtp-relay oauth import-certificate cert.pem'
        : 'Certificates & secrets > New client secret; store its Value (not the Secret ID) here: smtp-relay password set. Note its expiry date: a new secret is needed before then.',
      'Enterprise applications > the same app: copy its "Object ID" (not the one shown under App registrations).',
      `Exchange Online PowerShell, as an Exchange administrator: Install-Module ExchangeOnlineManagement; Connect-ExchangeOnline -Organization ${v(a.tenantId, '<tenantId>')}; ` +
        `New-ServicePrincipal -AppId ${v(a.clientId, '<clientId>')} -ObjectId <object ID> -DisplayName "SMTP Relay Tray" (older versions of the module: -ServiceId instead of -ObjectId); ` +
        `$sp = Get-ServicePrincipal | Where-Object AppId -eq ${v(a.clientId, '<clientId>')}; ` +
        `Add-MailboxPermission -Identity ${mailbox} -User $sp.Identity -AccessRights FullAccess (the service principal's Identity, as Get-ServicePrincipal shows it); ` +
        `Set-CASMailbox -Identity ${mailbox} -SmtpClientAuthenticationDisabled $false`,
      `Relay settings: smarthost.host smtp.office365.com, port 587, security starttls, auth.method oauth2-microsoft, auth.username ${mailbox}. ` +
        'Permissions can take 30 minutes to apply; then run: smtp-relay test-connection',
    ];
  }
  if (a.method === 'oauth2-google' && kind === 'installed-app') {
    return [
      'Google Cloud console > Google Auth Platform > Audience: user type Internal when the mailbox belongs to your Google Workspace (no verification, no 7-day expiry); ' +
        'External for a Gmail account, then "Publish app" (In production): an External app left in "Testing" loses its sign-in after 7 days.',
      'Google Auth Platform > Data Access > Add or remove scopes: https://mail.google.com/ (enable the Gmail API if it is not offered). It is a restricted scope: ' +
        'an External app Google has not verified shows "Google hasn\'t verified this app" at sign-in; signing in to your own mailbox, choose Advanced > Go to (the app\'s name).',
      'Google Auth Platform > Clients > Create client > Desktop app. Copy the Client ID to smarthost.auth.clientId; store the Client secret here: smtp-relay password set',
      `Relay settings: smarthost.host smtp.gmail.com, port 587, security starttls, auth.method oauth2-google, auth.credential installed-app, auth.username ${mailbox}.`,
      `On this computer, as the user the relay runs as: smtp-relay oauth login. The browser opens; sign in as ${mailbox} and allow access. Then: smtp-relay test-connection`,
    ];
  }
  if (a.method === 'oauth2-google') {
    return [
      'Google Cloud console > IAM & Admin > Service accounts > Create service account (no roles needed). Keys > Add key > JSON; import it here: smtp-relay oauth import-key key.json, then delete the file.',
      'If "Add key" is refused, the organization enforces the policy iam.disableServiceAccountKeyCreation (Google\'s secure-by-default setting for new organizations): ' +
        'an Organization Policy Administrator can turn it off for this project alone (IAM & Admin > Organization policies > "Disable service account key creation" > Manage policy > Override, Not enforced); ' +
        'or use a user\'s sign-in instead: auth.credential installed-app with an Internal app.',
      'Note the service account\'s "Unique ID" (its client ID, a number).',
      'Google Admin console (super administrator) > Security > Access and data control > API controls > Manage Domain Wide Delegation > Add new: that client ID, scope https://mail.google.com/',
      `Relay settings: smarthost.host smtp.gmail.com, port 587, security starttls, auth.method oauth2-google, auth.credential service-account, auth.username ${mailbox} (a user of the Workspace domain). ` +
        'Delegation can take a few minutes to apply; then run: smtp-relay test-connection',
    ];
  }
  return [];
}
