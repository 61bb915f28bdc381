// SMTP smuggling hygiene for message content (RFC 5321 §4.1.1.4, RFC 5322 §2.3: CR and LF occur
// only together). smtp-server ends DATA only at <CR><LF>.<CR><LF>, but passes bare CR, bare LF and
// NUL through; forwarded as they are, a smarthost that reads <LF>.<LF> as the end of DATA would take
// what follows for a second message from us. So no such byte is ever stored:
//   bare LF -> CRLF     (Unix-style line ends from scripts; Postfix's smtpd_forbid_bare_newline=normalize)
//   bare CR -> removed  (mostly "\r\r\n" from a doubled CRLF conversion, which this turns back into CRLF)
//   NUL     -> removed
// listen.bareLineEndings "reject" refuses such a message instead (see found).

const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;

export class LineEndings {
  /** A bare CR, bare LF or NUL was seen (and normalised). */
  found = false;
  /** The last chunk ended with a CR whose LF may start the next chunk. */
  private pendingCR = false;

  /** The chunk with line ends normalised; state carries over to the next chunk. */
  push(chunk: Buffer): Buffer {
    // Fast path: nothing to change and no CR left hanging.
    if (!this.pendingCR && chunk.indexOf(NUL) < 0 && isClean(chunk)) return chunk;
    const out = Buffer.allocUnsafe(chunk.length * 2 + 2);
    let n = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (this.pendingCR) {
        this.pendingCR = false;
        if (b === LF) {
          out[n++] = CR;
          out[n++] = LF;
          continue;
        }
        this.found = true; // the CR before b was bare: dropped
      }
      if (b === CR) this.pendingCR = true;
      else if (b === LF) {
        this.found = true;
        out[n++] = CR;
        out[n++] = LF;
      } else if (b === NUL) this.found = true;
      else out[n++] = b;
    }
    return out.subarray(0, n);
  }

  /** Call at the end of the data: a CR still hanging was bare. */
  end(): void {
    if (this.pendingCR) this.found = true;
    this.pendingCR = false;
  }
}

/** Every CR is followed by LF and every LF preceded by CR, within the chunk (no CR at its end). */
function isClean(chunk: Buffer): boolean {
  for (let i = chunk.indexOf(CR); i >= 0; i = chunk.indexOf(CR, i + 1)) if (chunk[i + 1] !== LF) return false;
  for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, i + 1)) if (chunk[i - 1] !== CR) return false;
  return true;
}
