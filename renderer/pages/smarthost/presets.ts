// Provider presets: what an admin would otherwise look up in each provider's documentation (its
// SMTP set-up page: host, port, TLS mode and login).
import type { Config } from '../../../src/config/schema.js';
import { M365_BASIC_AUTH_TIMELINE } from '../../../src/advice/catalogue.js';

type Smarthost = Config['smarthost'];

export interface Preset {
  id: string;
  label: string;
  /** Recognises a saved host as this provider's. */
  matches: RegExp;
  fill: Pick<Smarthost, 'host' | 'port' | 'security'> & { method: Smarthost['auth']['method']; username?: string; maxConnections?: number };
  /** What the admin must know or do at the provider, in plain words. */
  hint: string;
  usernamePlaceholder: string;
}

export const PRESETS: Preset[] = [
  {
    id: 'microsoft365',
    label: 'Microsoft 365 (Exchange Online)',
    matches: /^smtp(-legacy)?\.office365\.com$/i,
    fill: { host: 'smtp.office365.com', port: 587, security: 'starttls', method: 'password', maxConnections: 3 },
    hint: 'Sign in with a licensed mailbox, not a shared one. SMTP AUTH must be turned on for it: Exchange admin center › the mailbox › Email apps › Authenticated SMTP. ' +
      `Microsoft allows 3 connections per mailbox. Passwords for SMTP are being retired. ${M365_BASIC_AUTH_TIMELINE} Choose "Microsoft 365 (OAuth2)" under Sign-in to be ready.`,
    usernamePlaceholder: 'jts@contoso.com',
  },
  {
    id: 'gmail',
    label: 'Gmail / Google Workspace',
    matches: /^smtp\.gmail\.com$/i,
    fill: { host: 'smtp.gmail.com', port: 587, security: 'starttls', method: 'password' },
    hint: 'Gmail needs an app password: turn on 2-Step Verification for the account, then Google Account › Security › App passwords. ' +
      'Enter the 16-letter app password below. The normal Google password does not work for SMTP.',
    usernamePlaceholder: 'builds@example.com',
  },
  {
    id: 'ses',
    label: 'Amazon SES',
    matches: /^email-smtp\.[a-z0-9-]+\.amazonaws\.com$/i,
    fill: { host: 'email-smtp.us-east-1.amazonaws.com', port: 587, security: 'starttls', method: 'password' },
    hint: 'Change us-east-1 in the host to your SES region. Use the SMTP credentials created in the SES console (SMTP settings › Create SMTP credentials), not your AWS access keys. ' +
      'Every sender address must be a verified identity in SES.',
    usernamePlaceholder: 'AKIA… (SMTP user name)',
  },
  {
    id: 'sendgrid',
    label: 'SendGrid',
    matches: /^smtp\.sendgrid\.net$/i,
    fill: { host: 'smtp.sendgrid.net', port: 587, security: 'starttls', method: 'password', username: 'apikey' },
    hint: 'The username is the word apikey; the password is a SendGrid API key with the "Mail Send" permission. Sender addresses must be verified in SendGrid.',
    usernamePlaceholder: 'apikey',
  },
  {
    id: 'mailgun',
    label: 'Mailgun',
    matches: /^smtp(\.eu)?\.mailgun\.org$/i,
    fill: { host: 'smtp.mailgun.org', port: 587, security: 'starttls', method: 'password' },
    hint: 'Use the SMTP credentials of your sending domain (Mailgun › Sending › Domain settings › SMTP credentials). For a domain in Mailgun\'s EU region the host is smtp.eu.mailgun.org.',
    usernamePlaceholder: 'postmaster@mg.example.com',
  },
];

export const CUSTOM: Pick<Preset, 'id' | 'label' | 'hint' | 'usernamePlaceholder'> = {
  id: 'custom',
  label: 'Another mail server',
  hint: 'Enter your mail server\'s name and port. Its administrator can tell you which security and sign-in it expects.',
  usernamePlaceholder: 'user@example.com',
};

/** The preset a saved host belongs to; custom for any other host, none while no host is set. */
export function presetForHost(host: string): string {
  if (!host) return '';
  return PRESETS.find((p) => p.matches.test(host))?.id ?? CUSTOM.id;
}
