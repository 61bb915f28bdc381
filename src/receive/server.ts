// Inbound SMTP (Postfix's smtpd + cleanup): access control, limits, the Received header, and the
// durable hand-off to the spool. A client gets 250 only after spool.commit() has fsynced everything.
import os from 'node:os';
import type { Readable } from 'node:stream';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Config } from '../config/schema.js';
import type { MailLog } from '../log/mail-log.js';
import type { Ingest, Spool } from '../spool/spool.js';
import { allowList } from './access.js';
import { HeaderScanner, receivedHeader } from './headers.js';

/** RFC 5321 asks for a loop limit of at least 100 hops. */
export const MAX_RECEIVED_HEADERS = 100;

export interface ReceiverOptions {
  listen: Config['listen'];
  spool: Spool;
  log: MailLog;
  /** Name in the banner and the Received header; defaults to this computer's name. */
  hostname?: string;
  /** Called after a message is committed, so delivery can start at once. */
  onQueued?: (id: string) => void;
}

/** An error with the SMTP reply smtp-server should send. */
function reply(code: number, text: string): Error & { responseCode: number } {
  return Object.assign(new Error(text), { responseCode: code });
}

export class Receiver {
  private readonly server: SMTPServer;
  private readonly allowed: (ip: string) => boolean;
  private readonly hostname: string;
  /** DATA streams in progress, by session, so a client that vanishes mid-DATA can be aborted. */
  private readonly inflight = new Map<string, Readable>();

  constructor(private readonly opts: ReceiverOptions) {
    this.allowed = allowList(opts.listen.allowedClients);
    this.hostname = opts.hostname || os.hostname();
    this.server = new SMTPServer({
      name: this.hostname,
      banner: 'SMTP Relay Tray',
      // Advertise SIZE without smtp-server's own check, whose reply lacks the 5.3.4 code; onMailFrom checks it.
      size: opts.listen.maxMessageBytes,
      hideSize: true,
      maxClients: opts.listen.maxClients,
      // Loopback senders (JTS, Buildbot) do not authenticate; LAN auth and STARTTLS come with their own settings.
      disabledCommands: ['AUTH', 'STARTTLS'],
      authOptional: true,
      logger: false,
      closeTimeout: 5000,
      onConnect: (session, cb) => this.onConnect(session, cb),
      onMailFrom: (address, session, cb) => this.onMailFrom(address.args, cb),
      onRcptTo: (_address, session, cb) => this.onRcptTo(session, cb),
      onData: (stream, session, cb) => void this.onData(stream, session, cb),
      onClose: (session) => this.inflight.get(session.id)?.destroy(new Error('client disconnected during DATA')),
    });
    this.server.on('error', (e) => opts.log.error(`smtp server error: ${e.message}`));
  }

  /** Starts listening; rejects with EADDRINUSE / EACCES errors for the caller to explain. */
  listen(): Promise<{ host: string; port: number }> {
    const { host, port } = this.opts.listen;
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.server.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.server.off('error', onError);
        const addr = this.server.server.address();
        resolve({ host, port: typeof addr === 'object' && addr ? addr.port : port });
      });
    });
  }

  /** Stops accepting; sessions in progress get up to closeTimeout to finish. */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private onConnect(session: SMTPServerSession, cb: (err?: Error) => void): void {
    if (this.allowed(session.remoteAddress)) return cb();
    this.opts.log.warn(`reject: connect from [${session.remoteAddress}]: not in listen.allowedClients`);
    cb(reply(554, `5.7.1 ${this.hostname} Access denied: [${session.remoteAddress}] is not an allowed client of this relay`));
  }

  private onMailFrom(args: unknown, cb: (err?: Error) => void): void {
    const declared = Number((args && (args as Record<string, string>).SIZE) || 0);
    if (declared > this.opts.listen.maxMessageBytes) {
      return cb(reply(552, `5.3.4 Message size exceeds fixed maximum message size (${this.opts.listen.maxMessageBytes} bytes)`));
    }
    cb();
  }

  private onRcptTo(session: SMTPServerSession, cb: (err?: Error) => void): void {
    if (session.envelope.rcptTo.length >= this.opts.listen.maxRecipients) {
      return cb(reply(452, `4.5.3 Error: too many recipients (at most ${this.opts.listen.maxRecipients} per message)`));
    }
    cb();
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, msg?: string) => void): Promise<void> {
    this.inflight.set(session.id, stream);
    let ingest: Ingest | null = null;
    try {
      ingest = await this.opts.spool.beginIngest();
      const result = await this.receive(stream, session, ingest);
      if ('refused' in result) {
        await ingest.abort();
        return cb(result.refused);
      }
      const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
      const to = session.envelope.rcptTo.map((r) => r.address);
      const id = await ingest.commit({ from, to, client: { ip: session.remoteAddress, helo: session.hostNameAppearsAs || '' }, subject: result.subject });
      this.opts.log.info(`id=${id} from=<${from}> size=${stream.byteLength} nrcpt=${to.length} client=[${session.remoteAddress}] status=queued`);
      cb(null, `2.0.0 Ok: queued as ${id}`);
      this.opts.onQueued?.(id);
    } catch (e) {
      await ingest?.abort();
      stream.resume(); // the reply is sent only after the stream ends
      const err = e as NodeJS.ErrnoException;
      if (err.message === 'client disconnected during DATA' || err.code === 'ERR_STREAM_PREMATURE_CLOSE') {
        this.opts.log.warn(`lost connection after DATA from [${session.remoteAddress}]: nothing queued`);
        return cb(reply(421, '4.4.2 Connection lost'));
      }
      this.opts.log.error(`queue file write error from [${session.remoteAddress}]: ${err.message}`);
      cb(err.code === 'ENOSPC' || err.code === 'EDQUOT'
        ? reply(452, '4.3.1 Insufficient system storage')
        : reply(451, '4.3.0 Error: queue file write error'));
    } finally {
      this.inflight.delete(session.id);
    }
  }

  /**
   * Streams DATA into the spool. Returns the reply for a message that must be refused; the stream is
   * always read to its end (smtp-server answers only then), but nothing more is stored once a limit is hit,
   * so memory stays flat however much a client sends.
   */
  private async receive(stream: SMTPServerDataStream, session: SMTPServerSession, ingest: Ingest): Promise<{ refused: Error } | { subject: string }> {
    const rcpts = session.envelope.rcptTo;
    await ingest.write(Buffer.from(receivedHeader({
      helo: session.hostNameAppearsAs || '', ip: session.remoteAddress, hostname: this.hostname,
      protocol: session.transmissionType || 'ESMTP', id: ingest.id, rcpt: rcpts.length === 1 ? rcpts[0]?.address : undefined,
    })));
    const headers = new HeaderScanner();
    const max = this.opts.listen.maxMessageBytes;
    let bytes = 0;
    let writeError: Error | null = null;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > max || writeError) continue;
      headers.push(chunk);
      try {
        await ingest.write(chunk);
      } catch (e) {
        writeError = e as Error; // keep draining; the reply waits for the end of DATA
      }
    }
    if (writeError) throw writeError;
    if (bytes > max) return { refused: reply(552, `5.3.4 Error: message file too big (limit ${max} bytes)`) };
    headers.end();
    if (headers.received > MAX_RECEIVED_HEADERS) {
      this.opts.log.warn(`reject: mail loop from [${session.remoteAddress}]: ${headers.received} Received headers`);
      return { refused: reply(554, `5.4.0 Error: too many hops (${headers.received} Received headers; mail loop?)`) };
    }
    return { subject: headers.subject };
  }
}
