// What one delivery attempt of one message to one destination came to, per recipient.
// The transport (smarthost.ts) produces it from nodemailer's results and errors; the queue manager
// applies it to the spool. Neither needs to know the other's details.

export type RecipientVerdict = 'sent' | 'deferred' | 'failed';

export interface RecipientOutcome {
  address: string;
  verdict: RecipientVerdict;
  /** SMTP reply code from the server, when there was one (250, 450, 550 …). */
  code?: number;
  /** Enhanced status code parsed from the reply (RFC 3463), e.g. "5.1.1". */
  enhanced?: string;
  /** The server's reply or our description of the failure, one line, at most 512 characters. */
  response: string;
  /** The server that answered for this recipient, when it differs by recipient (MX delivery). */
  relay?: string;
}

export interface AttemptOutcome {
  recipients: RecipientOutcome[];
  /** "smtp.office365.com[52.96.1.2]:587", or the configured host:port when no connection was made. */
  relay: string;
  /**
   * Set when the failure belongs to the destination, not the message (connection refused, timeout,
   * TLS failure, 4xx/5xx greeting): the queue backs off that destination without charging the message.
   */
  destinationFailure?: boolean;
  /** Set when authentication was refused (535 …): a configuration problem; delivery pauses. */
  authFailure?: boolean;
  /** With authFailure: no login was sent at all, because the connection was not encrypted. */
  loginWithheld?: boolean;
  /** The connection was lost after the final dot: the server may already have the message. */
  maybeDelivered?: boolean;
}
