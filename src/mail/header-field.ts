// Header fields the relay writes itself (the test message, delivery reports, Received:). Every value
// goes through here rather than into a template string, so a setting or an address carrying CR or LF
// can never start a header of its own (a Bcc: smuggled into the test message's From:).

/** C0 controls (CR, LF, NUL, TAB…), DEL and C1 controls: never part of a header value we write. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

export class HeaderValueError extends Error {}

/** "Name: value" (no line end). A value may be folded: each part goes on its own line, indented. */
export function headerField(name: string, ...parts: string[]): string {
  if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) throw new HeaderValueError(`not a header field name: ${JSON.stringify(name)}`);
  for (const part of parts) {
    if (CONTROL_CHARACTER.test(part)) throw new HeaderValueError(`${name}: a header value may not contain control characters (${JSON.stringify(part)})`);
  }
  return `${name}: ${parts.join('\r\n\t')}`;
}

/** Free text (Subject, a display name): ASCII stays as it is, anything else becomes an RFC 2047 encoded word. */
export function unstructured(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?utf-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

/**
 * `"Display Name" <local@domain>`, or `<local@domain>`. The address is an envelope address (smtp-server
 * or the config schema checked it); what could end the angle brackets or the line is refused here.
 */
export function mailbox(address: string, displayName?: string): string {
  if (!address.includes('@') || /[<>]/.test(address) || CONTROL_CHARACTER.test(address)) {
    throw new HeaderValueError(`not a single e-mail address: ${JSON.stringify(address)}`);
  }
  if (!displayName) return `<${address}>`;
  // Words of atext stay as they are (RFC 5322 §3.2.3); other ASCII is quoted; the rest encoded.
  const name = /^[\w!#$%&'*+/=?^`{|}~ -]*$/.test(displayName) ? displayName
    : /^[\x20-\x7e]*$/.test(displayName) ? `"${displayName.replace(/["\\]/g, '\\$&')}"` : unstructured(displayName);
  return `${name} <${address}>`;
}
