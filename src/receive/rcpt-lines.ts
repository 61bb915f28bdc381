// smtp-server hands onRcptTo the recipient with a source route already dropped (@relay:user@domain
// becomes user@domain); only its command log still carries the line as the client sent it. This
// logger keeps the last RCPT line of each session, so recipients.ts can refuse the route.
// smtp-server logs a command before running it, and runs onRcptTo from that command's handler.
import type { ExternalLogger } from 'nodemailer/lib/shared';

const ignore = (): void => {};

export class RcptLines {
  private readonly last = new Map<string, string>();

  readonly logger: ExternalLogger = {
    debug: (entry: { tnx?: string; cid?: string; command?: string }, _message: string, line: unknown) => {
      if (entry.tnx === 'command' && entry.command === 'RCPT' && entry.cid && typeof line === 'string') this.last.set(entry.cid, line);
    },
    trace: ignore, info: ignore, warn: ignore, error: ignore, fatal: ignore,
  };

  /** The RCPT line being handled for this session, once. */
  take(sessionId: string): string | undefined {
    const line = this.last.get(sessionId);
    this.last.delete(sessionId);
    return line;
  }

  forget(sessionId: string): void {
    this.last.delete(sessionId);
  }
}
