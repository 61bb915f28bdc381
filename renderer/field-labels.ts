// The window's words for config.json's keys and values. The schema's messages name config keys
// ("is required when auth.method is \"oauth2-microsoft\"") because the CLI and config.json use them;
// the window rewrites them with the labels its fields show. One table, used wherever a message is shown.

/** Config path (inside config.json) -> the label of the field that edits it. */
export const FIELD_LABELS: Record<string, string> = {
  'smarthost.host': 'Host',
  'smarthost.port': 'Port',
  'smarthost.security': 'Security',
  'smarthost.caFile': 'CA file',
  'smarthost.maxConnections': 'Connections at once',
  'smarthost.auth.method': 'Sign-in method',
  'smarthost.auth.username': 'Username',
  'smarthost.auth.mechanism': 'Login method',
  'smarthost.auth.tenantId': 'Directory (tenant) ID',
  'smarthost.auth.clientId': 'Application (client) ID',
  'smarthost.auth.credential': 'Credential',
  'smarthost.auth.tokenEndpoint': 'Token endpoint',
  'listen.host': 'Bind address',
  'listen.port': 'Port',
  'listen.allowedClients': 'Allowed clients',
  'listen.maxMessageBytes': 'Largest message',
};

/** Config values the schema quotes -> what the window's selects call them. */
const VALUE_LABELS: Record<string, string> = {
  'oauth2-microsoft': 'Microsoft 365 (OAuth2)',
  'oauth2-google': 'Google (OAuth2)',
  password: 'Username and password',
  none: 'None',
  starttls: 'STARTTLS',
  tls: 'TLS',
  'service-account': 'Service account',
  'installed-app': 'Sign in once in the browser',
};

/** Placeholders in the OAuth2 set-up steps, named after config keys -> the fields' labels. */
const PLACEHOLDERS: Record<string, string> = {
  '<tenantId>': '<Directory (tenant) ID>',
  '<clientId>': '<Application (client) ID>',
};

// A setting followed by its value ("security starttls", "auth.method oauth2-microsoft" once its key is a label).
const SETTING_VALUE = /\b(security|Security|Sign-in method|Credential) ([a-z0-9-]+)\b/g;

// Longest first, so "smarthost.auth.username" is replaced before a shorter key inside it.
const KEYS = Object.keys(FIELD_LABELS).sort((a, b) => b.length - a.length);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// A key written in full ("smarthost.auth.username") or within its section when that still has a dot
// ("auth.username"; a bare "port" or "host" is an ordinary word in a sentence).
const inSection = (k: string) => k.slice(k.indexOf('.') + 1);
const KEY_PATTERN = new RegExp(
  `(?<![\\w.])(?:${KEYS.flatMap((k) => (inSection(k).includes('.') ? [k, inSection(k)] : [k])).map(escape).join('|')})(?!\\w|\\.\\w)`,
  'g',
);

/** The label for a config path ("smarthost.auth.username", or "listen.allowedClients[1]"); the path itself when the window has no field for it. */
export function fieldLabel(path: string): string {
  const bare = path.replace(/\[\d+\]$/, '');
  return FIELD_LABELS[bare] ?? path;
}

/** A message with config keys and their quoted values in the window's words; `section` resolves keys written without it ("auth.method"). */
export function inWindowWords(message: string, section: 'smarthost' | 'listen' = 'smarthost'): string {
  return message
    .replace(new RegExp(`${KEY_PATTERN.source} is "([\\w-]+)"`, 'g'), (_, value: string) => `${_.slice(0, _.indexOf(' is "'))} is ${VALUE_LABELS[value] ?? value}`)
    .replace(KEY_PATTERN, (key: string) => FIELD_LABELS[key] ?? FIELD_LABELS[`${section}.${key}`] ?? key)
    .replace(/<(tenantId|clientId)>/g, (p: string) => PLACEHOLDERS[p] ?? p)
    .replace(SETTING_VALUE, (all: string, name: string, value: string) => (VALUE_LABELS[value] ? `${name} ${VALUE_LABELS[value]}` : all));
}
