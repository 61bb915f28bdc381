// Sender rewriting, Postfix's smtp_generic_maps for the relay: applications on the server send as
// jts@jts.localdomain, the smarthost only accepts its own mailbox. Applied at delivery, to the envelope
// sender and to the From, Sender and Reply-To headers, so the spool keeps what the application sent
// and a changed rule applies to mail already queued.
import type { Config } from '../config/schema.js';

export interface SenderRewriter {
  /** The envelope sender to use; '' (the null sender of bounces) is never rewritten. */
  envelope(from: string): string;
  /** The header section with From/Sender/Reply-To rewritten; every other byte unchanged. */
  headers(section: string): string;
}

/** Builds the rewriter for config.rewrite, or null when there is nothing to rewrite. */
export function senderRewriter(rules: Config['rewrite']): SenderRewriter | null {
  const force = rules.forceSender.trim();
  if (!force && rules.senders.length === 0) return null;
  const map = (address: string) => (force ? force : mapAddress(address, rules.senders));
  return {
    envelope: (from) => (from === '' ? '' : map(from)),
    headers: (section) => rewriteHeaderSection(section, map, force !== ''),
  };
}

/** The first matching rule wins: an exact address, or "@domain" for every address of that domain. */
export function mapAddress(address: string, senders: Config['rewrite']['senders']): string {
  const a = address.toLowerCase();
  for (const { match, replace } of senders) {
    const m = match.trim().toLowerCase();
    if (m.startsWith('@') ? a.endsWith(m) : a === m) return replace.trim();
  }
  return address;
}

const ADDRESS_HEADERS = /^(from|sender|reply-to)$/i;

/**
 * Rewrites the address headers of a header section. Fields are found by name (folded lines stay
 * folded); inside them only the addr-specs change, so display names, encoded words, comments and
 * line ends keep their exact bytes. With forceSender the original From is kept as Reply-To (unless the
 * message already has one), so replies still reach the application's owner.
 */
export function rewriteHeaderSection(section: string, map: (address: string) => string, keepOriginalFrom: boolean): string {
  const fields = splitFields(section);
  const hasReplyTo = fields.some((f) => /^reply-to$/i.test(f.name));
  let originalFrom: string | null = null;
  const out = fields.map((f) => {
    // Forcing one sender changes who sends, not where replies go: an existing Reply-To stays as it is.
    if (!ADDRESS_HEADERS.test(f.name) || (keepOriginalFrom && /^reply-to$/i.test(f.name))) return f.raw;
    if (/^from$/i.test(f.name)) originalFrom = f.raw.slice(f.raw.indexOf(':') + 1);
    const colon = f.raw.indexOf(':') + 1;
    return f.raw.slice(0, colon) + rewriteAddresses(f.raw.slice(colon), map);
  });
  if (keepOriginalFrom && !hasReplyTo && originalFrom !== null) {
    const eol = /\r?\n$/.exec(originalFrom)?.[0] ?? '\r\n';
    const value = (originalFrom as string).replace(/\r?\n$/, '');
    const at = fields.findIndex((f) => /^from$/i.test(f.name));
    out.splice(at + 1, 0, `Reply-To:${value}${eol}`);
  }
  return out.join('');
}

/** Replaces every addr-spec in an address-list value: those in <…>, or bare ones when there are none. */
function rewriteAddresses(value: string, map: (address: string) => string): string {
  const masked = maskQuotedAndComments(value);
  const spans: [number, number][] = [];
  const angle = /<([^<>\s]+@[^<>\s]+)>/g;
  for (let m; (m = angle.exec(masked));) spans.push([m.index + 1, m.index + 1 + (m[1] as string).length]);
  if (spans.length === 0) {
    const bare = /[^\s,:;<>()"]+@[^\s,:;<>()"]+/g;
    for (let m; (m = bare.exec(masked));) spans.push([m.index, m.index + m[0].length]);
  }
  let out = value;
  for (const [start, end] of spans.reverse()) out = out.slice(0, start) + map(value.slice(start, end)) + out.slice(end);
  return out;
}

/** The same string with quoted strings and comments blanked, so their "@" and "<" are not addresses. */
function maskQuotedAndComments(value: string): string {
  let out = '';
  let quoted = false;
  let depth = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '\\' && (quoted || depth > 0)) { out += '  '; i++; continue; }
    if (!quoted && c === '(') depth++;
    if (depth === 0 && c === '"') quoted = !quoted;
    out += quoted || depth > 0 || c === '"' ? ' ' : c;
    if (!quoted && c === ')' && depth > 0) depth--;
  }
  return out;
}

interface Field {
  name: string;
  /** The whole field with its folded continuation lines and line ends, exactly as received. */
  raw: string;
}

function splitFields(section: string): Field[] {
  const lines = section.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const fields: Field[] = [];
  for (const line of lines) {
    const last = fields.at(-1);
    if (last && /^[ \t]/.test(line)) last.raw += line;
    else fields.push({ name: /^([^:\s]+):/.exec(line)?.[1] ?? '', raw: line });
  }
  return fields;
}
