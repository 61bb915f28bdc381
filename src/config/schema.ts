// config.json: the one source of truth for its types, validation, defaults and version.
// Field names are a public contract (docs/architecture.md): add fields, never rename them.
import net from 'node:net';
import { z } from 'zod';
import { MAILBOX, MAILBOX_OR_DOMAIN } from '../mail/address.js';
import { CONTROL_CHARACTER } from '../mail/header-field.js';
import { isLoopback, isOpenToInternet, parseCidr } from '../net/networks.js';
import { parseDuration, parseSchedule } from './duration.js';

export const CONFIG_VERSION = 1;

/**
 * Every string in the config: no control characters. CR and LF would start a new header in the test
 * message, a new SMTP command or a forged log line; the rest have no business in a setting either.
 */
function text() {
  return z.string().refine((s) => !CONTROL_CHARACTER.test(s), {
    abort: true,
    error: (iss) => {
      const c = CONTROL_CHARACTER.exec(String(iss.input))?.[0] ?? '';
      return `must not contain control characters (found U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}${CONTROL_NAMES[c] ? `, ${CONTROL_NAMES[c]}` : ''})`;
    },
  });
}

const CONTROL_NAMES: Record<string, string> = { '\r': 'a carriage return', '\n': 'a line feed', '\t': 'a tab', '\0': 'a NUL' };

const port = z.number().int().min(1).max(65535);

const duration = text().refine(
  (s) => { try { parseDuration(s); return true; } catch { return false; } },
  { error: (iss) => { try { parseDuration(String(iss.input)); return 'invalid duration'; } catch (e) { return (e as Error).message; } } },
);

const schedule = text().refine(
  (s) => { try { parseSchedule(s); return true; } catch { return false; } },
  { error: (iss) => { try { parseSchedule(String(iss.input)); return 'invalid schedule'; } catch (e) { return (e as Error).message; } } },
);

function atLeast(d: typeof duration, ms: number, text: string) {
  return d.refine((s) => { try { return parseDuration(s) >= ms; } catch { return true; } }, { error: `must be at least ${text}` });
}

/** "127.0.0.0/8", "::1/128" or a bare address (a single host). */
export const cidr = text().refine((s) => parseCidr(s) !== null, {
  error: (iss) => `"${String(iss.input)}" is not an address range; write it like 127.0.0.0/8, 192.168.1.10 or ::1/128`,
});

const hostname = text().trim().max(253).regex(/^[A-Za-z0-9.:_-]*$/, {
  error: 'may contain only letters, digits, dots, hyphens and colons (an IP address or a DNS name)',
}).superRefine((s, ctx) => {
  // "smtp.office365.com:587" would be looked up as a name and fail later: say where the port goes now.
  const withPort = /^([^:]+):(\d{1,5})$/.exec(s);
  if (withPort) ctx.addIssue({ code: 'custom', message: `must be the server name alone, without ":${withPort[2]}": put ${withPort[1]} here and ${withPort[2]} in the port` });
});

export const listenSchema = z.strictObject({
  /** Address the SMTP listener binds to. Loopback by default: never reachable from the network unless changed. */
  host: text().refine((s) => net.isIP(s) !== 0, { error: 'must be an IP address such as 127.0.0.1, ::1 or 0.0.0.0' }).default('127.0.0.1'),
  port: port.default(25),
  /** Clients outside these ranges get 554 at connect. */
  allowedClients: z.array(cidr).min(1, { error: 'needs at least one range, e.g. 127.0.0.0/8' }).default(['127.0.0.0/8', '::1/128']),
  /** Largest message accepted (bytes); larger ones get 552 5.3.4. Default 25 MiB, Microsoft 365's limit for SMTP submission is 35 MB. */
  maxMessageBytes: z.number().int().min(1024).max(1024 * 1024 * 1024).default(26_214_400),
  /** Recipients per message; more get 452 4.5.3. */
  maxRecipients: z.number().int().min(1).max(10_000).default(100),
  /** Concurrent client connections; more get 421. */
  maxClients: z.number().int().min(1).max(10_000).default(50),
  /** Concurrent connections from one address; more get 421, so no single client can take every slot. */
  maxConnectionsPerClient: z.number().int().min(1).max(10_000).default(25),
  /** A session lasting longer is closed with 421 (cuts clients that trickle bytes to hold a slot). */
  maxSessionTime: atLeast(duration, 1000, '1s').default('10m'),
  /** Bare CR, bare LF and NUL in a message (SMTP smuggling): normalize (stored as CRLF / removed) or reject (550 5.6.0). */
  bareLineEndings: z.enum(['normalize', 'reject']).default('normalize'),
});

export const deliverySchema = z.strictObject({
  mode: z.enum(['smarthost', 'mx']).default('smarthost'),
  /** Name sent in EHLO; empty means this computer's host name. */
  heloName: hostname.default(''),
  ipFamily: z.enum(['auto', 'ipv4', 'ipv6']).default('auto'),
  /** Waits between attempts of one recipient, front-loaded for greylisting; the last step repeats. */
  retrySchedule: schedule.default('1m,2m,5m,10m,20m,30m,1h,2h,4h'),
  /** A message still undelivered after this long fails with 5.4.7 (RFC 5321 asks for 4-5 days). */
  maxQueueTime: duration.default('5d'),
  delayWarningAfter: duration.default('4h'),
});

const httpsUrl = text().trim().max(2000).refine((s) => s === '' || URL.parse(s)?.protocol === 'https:', { error: 'must be an https:// address (or empty for the provider\'s own)' });

export const authSchema = z.strictObject({
  method: z.enum(['none', 'password', 'oauth2-microsoft', 'oauth2-google']).default('none'),
  username: text().trim().max(320).default(''),
  /** SASL mechanism: auto prefers LOGIN where offered (Microsoft 365 rejects PLAIN). */
  mechanism: z.enum(['auto', 'LOGIN', 'PLAIN', 'CRAM-MD5']).default('auto'),
  /** OAuth2: what proves the app. auto = client-secret (oauth2-microsoft), service-account (oauth2-google). */
  credential: z.enum(['auto', 'client-secret', 'certificate', 'service-account', 'installed-app']).default('auto'),
  /** oauth2-microsoft: the Directory (tenant) ID, or the tenant's domain. */
  tenantId: text().trim().max(256).regex(/^[A-Za-z0-9.-]*$/, { error: 'must be the Directory (tenant) ID (a GUID) or a domain such as contoso.onmicrosoft.com' }).default(''),
  /** oauth2-microsoft: the Application (client) ID; oauth2-google installed-app: the OAuth client ID. */
  clientId: text().trim().max(256).regex(/^[A-Za-z0-9._-]*$/, { error: 'must be the client ID as shown by Microsoft Entra ID or Google Cloud' }).default(''),
  /** Token endpoint; empty = the provider's own. For sovereign clouds and tests. */
  tokenEndpoint: httpsUrl.default(''),
  /** oauth2-google installed-app: where the browser signs in; empty = Google's own. */
  authorizationEndpoint: httpsUrl.default(''),
  /** Empty = https://outlook.office365.com/.default (Microsoft) or https://mail.google.com/ (Google). */
  scope: text().trim().max(1000).default(''),
});

export const smarthostSchema = z.strictObject({
  /** Empty until the admin configures it; mail queues meanwhile and is not lost. */
  host: hostname.default(''),
  port: port.default(587),
  /** starttls: required, never plaintext; tls: implicit (465); opportunistic: STARTTLS if offered; none. */
  security: z.enum(['starttls', 'tls', 'opportunistic', 'none']).default('starttls'),
  verifyCertificate: z.boolean().default(true),
  /** PEM file with the private CA that signed the smarthost's certificate (added to the system roots). */
  caFile: text().refine((s) => !NETWORK_PATH.test(s.trim()), {
    error: 'must be a file on this computer, not a network path (\\\\server\\share\\…): opening it would make Windows sign in to that server with this account\'s credentials; copy the CA file to a local folder',
  }).default(''),
  maxConnections: z.number().int().min(1).max(50).default(3),
  auth: authSchema.prefault({}),
});

/** \\server\share, //server/share, \\?\UNC\server (any mix of slashes); \\?\C:\ and \\.\C:\ are local. */
const NETWORK_PATH = /^[\\/]{2}(?![?.][\\/][A-Za-z]:)/;

const mailbox = text().trim().regex(MAILBOX, { error: 'must be an e-mail address such as jts@contoso.com' });

export const rewriteSchema = z.strictObject({
  /** Like Postfix's smtp_generic_maps: "match" is an address or "@domain"; the first match wins. */
  senders: z.array(z.strictObject({
    match: text().trim().regex(MAILBOX_OR_DOMAIN, { error: 'must be an address (app@host.local) or a domain (@host.local)' }),
    replace: mailbox,
  })).default([]),
  /** Send everything as this one mailbox (Microsoft 365 SendAs); the original From is kept in Reply-To. */
  forceSender: text().trim().refine((s) => s === '' || MAILBOX.test(s), { error: 'must be an e-mail address such as jts@contoso.com' }).default(''),
});

export const alertsSchema = z.strictObject({
  stuckAfterMinutes: z.number().int().min(1).max(10_080).default(15),
});

/** "9464", "127.0.0.1:9464", "[::1]:9464" or "0.0.0.0:9464" -> host and port; null when it is none of these. */
export function parseListenAddress(text: string): { host: string; port: number } | null {
  const m = /^(?:(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):)?(\d{1,5})$/.exec(text.trim());
  if (!m) return null;
  const host = m[1] ?? m[2] ?? '127.0.0.1';
  const port = Number(m[3]);
  return net.isIP(host) && port >= 1 && port <= 65535 ? { host, port } : null;
}

export const metricsSchema = z.strictObject({
  /**
   * Where to serve Prometheus metrics (http://HOST:PORT/metrics); empty = off. A port alone listens
   * on 127.0.0.1; writing an address (0.0.0.0:9464) is the admin's choice to let the network scrape.
   */
  listen: z.string().trim().refine((s) => s === '' || parseListenAddress(s) !== null, {
    error: 'must be a port (9464) or an address and port (127.0.0.1:9464, [::1]:9464, 0.0.0.0:9464), or empty for off',
  }).default(''),
});

const proxyUrl = z.string().trim().max(2000).refine((s) => s === '' || URL.parse(s)?.protocol === 'http:', {
  error: 'must be an http:// proxy address such as http://proxy.contoso.com:8080 (or empty)',
}).refine((s) => { const u = URL.parse(s); return !u?.username && !u?.password; }, {
  error: 'must not hold a user name or password (config.json keeps no secrets); give an authenticating proxy in the HTTPS_PROXY environment variable instead',
});

export const networkSchema = z.strictObject({
  /** Proxy for the OAuth2 HTTPS requests; empty = HTTPS_PROXY from the environment (or none). */
  proxy: proxyUrl.default(''),
  /** Hosts reached without the proxy, like NO_PROXY: "localhost,.contoso.com"; added to NO_PROXY. */
  noProxy: z.string().trim().max(2000).default(''),
});

export const configSchema = z.strictObject({
  version: z.literal(CONFIG_VERSION).default(CONFIG_VERSION),
  listen: listenSchema.prefault({}),
  delivery: deliverySchema.prefault({}),
  smarthost: smarthostSchema.prefault({}),
  rewrite: rewriteSchema.prefault({}),
  alerts: alertsSchema.prefault({}),
  metrics: metricsSchema.prefault({}),
  network: networkSchema.prefault({}),
}).superRefine((c, ctx) => {
  for (const issue of openRelayRanges(c.listen)) ctx.addIssue({ code: 'custom', ...issue });
  if (c.smarthost.auth.method === 'password' && c.smarthost.auth.username === '') {
    ctx.addIssue({ code: 'custom', path: ['smarthost', 'auth', 'username'], message: 'is required when auth.method is "password"' });
  }
  if (c.smarthost.security === 'tls' && c.smarthost.port === 587) {
    ctx.addIssue({ code: 'custom', path: ['smarthost', 'security'], message: '"tls" (implicit TLS) is for port 465; port 587 expects "starttls"' });
  }
  for (const [field, message] of oauthIssues(c.smarthost.auth)) ctx.addIssue({ code: 'custom', path: ['smarthost', 'auth', field], message });
});

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What an OAuth2 method needs beyond the field types; nothing for the other methods. */
function oauthIssues(a: z.infer<typeof authSchema>): [field: string, message: string][] {
  if (!a.method.startsWith('oauth2-')) return [];
  const issues: [string, string][] = [];
  const need = (field: 'username' | 'tenantId' | 'clientId', what: string) => { if (a[field] === '') issues.push([field, `is required when auth.method is "${a.method}": ${what}`]); };
  need('username', 'the mailbox the relay sends as');
  if (a.username && !MAILBOX.test(a.username)) issues.push(['username', 'must be the mailbox\'s e-mail address with OAuth2']);
  if (a.method === 'oauth2-microsoft') {
    need('tenantId', 'the Directory (tenant) ID from the app registration\'s Overview page');
    need('clientId', 'the Application (client) ID from the app registration\'s Overview page');
    if (a.clientId && !GUID.test(a.clientId)) issues.push(['clientId', 'must be the Application (client) ID, a GUID such as 4a1b2c3d-0000-1111-2222-333344445555']);
    if (!['auto', 'client-secret', 'certificate'].includes(a.credential)) issues.push(['credential', 'must be "client-secret" or "certificate" with oauth2-microsoft']);
    if (a.tokenEndpoint && !a.tokenEndpoint.endsWith('/oauth2/v2.0/token')) issues.push(['tokenEndpoint', 'must be a Microsoft identity platform v2.0 token endpoint, https://<host>/<tenant>/oauth2/v2.0/token']);
  } else {
    if (!['auto', 'service-account', 'installed-app'].includes(a.credential)) issues.push(['credential', 'must be "service-account" (Google Workspace) or "installed-app" (a Gmail account) with oauth2-google']);
    if (a.credential === 'installed-app') need('clientId', 'the OAuth client ID of the "Desktop app" client in Google Cloud');
  }
  return issues;
}

/**
 * Listening beyond loopback (0.0.0.0, ::, a LAN address) with an allowedClients range that takes in
 * a wide part of the public Internet would make the relay an open relay. Private and reserved ranges
 * of any size are fine, and so are public ones up to a /24 (IPv4) or /48 (IPv6): a partner's server.
 * An IPv4-mapped IPv6 range counts as the IPv4 range it is (::ffff:0:0/96 is 0.0.0.0/0).
 */
function openRelayRanges(listen: { host: string; allowedClients: string[] }): { path: (string | number)[]; message: string }[] {
  if (isLoopback(listen.host)) return [];
  return listen.allowedClients.flatMap((text, i) => {
    const r = parseCidr(text);
    if (!r || !isOpenToInternet(r.address, r.prefix)) return [];
    return [{
      path: ['listen', 'allowedClients', i],
      message: `"${text}" would let computers anywhere on the Internet send mail through this relay (an open relay), because listen.host "${listen.host}" accepts connections from the network; list only your own networks, e.g. 192.168.1.0/24, or set listen.host to 127.0.0.1`,
    }];
  });
}

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

export class ConfigError extends Error {
  constructor(message: string, readonly issues: { path: string; message: string }[]) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Validates raw JSON (after migration), naming every bad field: "smarthost.port: must be …". */
export function parseConfig(raw: unknown, source = 'config.json'): Config {
  const secret = findSecretField(raw);
  if (secret) {
    throw new ConfigError(`${source}: ${secret}: secrets are never stored in config.json; use "smtp-relay password set" (or the settings window) to keep it in the OS keychain`, [{ path: secret, message: 'secret in config' }]);
  }
  const result = configSchema.safeParse(migrate(raw, source), { reportInput: true });
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: formatPath(i.path), message: describe(i) }));
  throw new ConfigError(`${source} is not valid:\n${issues.map((i) => `  ${i.path || '(top level)'}: ${i.message}`).join('\n')}`, issues);
}

export function defaultConfig(): Config {
  return configSchema.parse({});
}

/**
 * Brings an older config.json up to CONFIG_VERSION. Version 1 is the first format; a file without a
 * version is taken as version 1. A file from a newer release is refused rather than misread.
 */
function migrate(raw: unknown, source: string): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const version = (raw as { version?: unknown }).version;
  if (typeof version === 'number' && version > CONFIG_VERSION) {
    throw new ConfigError(`${source}: version: ${version} was written by a newer SMTP Relay Tray (this one reads up to ${CONFIG_VERSION}); upgrade it or restore an older config.json`, [{ path: 'version', message: 'newer version' }]);
  }
  return raw;
}

function findSecretField(raw: unknown, path: string[] = []): string | null {
  if (raw === null || typeof raw !== 'object') return null;
  for (const [k, v] of Object.entries(raw)) {
    if (/^(password|pass|secret|clientSecret|refreshToken)$/i.test(k)) return [...path, k].join('.');
    const inner = findSecretField(v, [...path, k]);
    if (inner) return inner;
  }
  return null;
}

function formatPath(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : (i ? '.' : '') + String(p))).join('');
}

/** What a field must be, in words (zod says "array", "int"). */
const EXPECTED: Record<string, string> = {
  int: 'a whole number', array: 'a list, e.g. ["10.0.0.0/8", "127.0.0.0/8"]', object: 'a group of settings ({ … })', boolean: 'true or false',
};

function describe(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (check the spelling)`;
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${EXPECTED[issue.expected] ?? `a ${issue.expected}`}, not ${JSON.stringify(issue.input)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return issue.origin === 'array' ? issue.message : `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}`;
    default:
      return issue.message;
  }
}
