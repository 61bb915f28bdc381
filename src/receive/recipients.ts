// Recipient address forms that route mail somewhere other than where they seem to go (Postfix's
// allow_untrusted_routing=no). They are refused with 553 for every client, allowed or not, because
// the smarthost behind us may still honour them: a%b@relay, b!a@relay, @relay:a@b, and domain
// literals to private or reserved addresses (a@[10.0.0.1]). A bare local part such as "postmaster"
// has no domain to relay to. ("a@b"@relay and a@b@relay never get here: smtp-server answers 501.)
// Plain user@domain, including public literals, passes.
import { isNonPublic } from '../net/networks.js';

/**
 * The reply text (after "553 ") that refuses this recipient, or null to accept it.
 * @param address what smtp-server parsed (it has already dropped a source route)
 * @param rawLine the RCPT command line as the client sent it, which still shows the route
 */
export function refuseRecipient(address: string, rawLine: string): string | null {
  if (!isValidUtf8(address)) return `5.1.3 <${address}>: the address is not valid UTF-8`;
  const path = /:\s*<([^<>]*)>/.exec(rawLine)?.[1] ?? '';
  if (path.startsWith('@')) return `5.7.1 <${path}>: source routes (@host:user@domain) are not accepted; address it to ${address}`;
  const at = address.lastIndexOf('@');
  if (at < 0) return `5.1.3 <${address}>: a recipient needs a domain (user@example.com); this relay has no local mailboxes`;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.includes('%')) return `5.7.1 <${address}>: "%" in the local part (the percent hack) routes mail through another host; not accepted`;
  if (local.includes('!')) return `5.7.1 <${address}>: "!" in the local part (a bang path) routes mail through another host; not accepted`;
  const literal = /^\[(?:ipv6:)?([^\]]*)\]$/i.exec(domain)?.[1];
  if (literal !== undefined && isNonPublic(literal)) {
    return `5.7.1 <${address}>: mail to a private or reserved address ([${literal}]) is not relayed`;
  }
  return null;
}

/** smtp-server decodes command lines as UTF-8, so bytes that are not UTF-8 arrive as U+FFFD. */
export function isValidUtf8(address: string): boolean {
  return !address.includes('\uFFFD');
}

/**
 * A transaction's recipients. Local parts are case-sensitive (RFC 5321 §2.4): B@y.test and b@y.test
 * are two mailboxes for all we know. Only exact repeats (the domain compared without case) are one,
 * the first spelling kept.
 */
export class Recipients {
  readonly list: string[] = [];
  private readonly keys = new Set<string>();

  get size(): number {
    return this.list.length;
  }

  has(address: string): boolean {
    return this.keys.has(recipientKey(address));
  }

  add(address: string): void {
    const key = recipientKey(address);
    if (this.keys.has(key)) return;
    this.keys.add(key);
    this.list.push(address);
  }
}

function recipientKey(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? address : `${address.slice(0, at)}@${address.slice(at + 1).toLowerCase()}`;
}
