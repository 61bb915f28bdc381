// Inbound SMTP (Postfix's smtpd + cleanup): access control, limits, input hygiene, the Received
// header, and the durable hand-off to the spool. A client gets 250 only after spool.commit() has
// fsynced everything.
import { isAscii } from 'node:buffer';
import os from 'node:os';
import type { Readable } from 'node:stream';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { parseDuration } from '../config/duration.js';
import type { Config } from '../config/schema.js';
import { receivedLine, type MailLog } from '../log/mail-log.js';
import type { Ingest, Spool } from '../spool/spool.js';
import { allowList } from './access.js';
import { greetPromptly } from './greeting.js';
import { FreeSpace } from './free-space.js';
import { HeaderSection, receivedHeader } from './headers.js';
import { LineEndings } from './line-endings.js';
import { RcptLines } from './rcpt-lines.js';
import { isValidUtf8, Recipients, refuseRecipient } from './recipients.js';

/** RFC 5321 asks for a loop limit of at least 100 hops. */
export const MAX_RECEIVED_HEADERS = 100;

/** Longest command line (RFC 5321's minimum is 512); longer ones get 421 and the connection closes. */
export const MAX_COMMAND_LENGTH = 2048;

/** New mail is refused (452 4.3.1) while the spool's disk has less free than this × maxMessageBytes. */
export const FREE_SPACE_FACTOR = 1.5;

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
  /** Each session's deadline (listen.maxSessionTime), by session id. */
  private readonly deadlines = new Map<string, NodeJS.Timeout>();
  private readonly rcptLines = new RcptLines();
  /** Each session's recipients, exact (smtp-server would merge B@y.test into b@y.test). */
  private readonly recipients = new Map<string, Recipients>();
  private readonly freeSpace: FreeSpace;
  private diskLow = false;

  constructor(private readonly opts: ReceiverOptions) {
    this.allowed = allowList(opts.listen.allowedClients);
    this.hostname = opts.hostname || os.hostname();
    this.freeSpace = new FreeSpace(opts.spool.paths.root);
    this.server = new SMTPServer({
      name: this.hostname,
      banner: 'SMTP Relay Tray',
      // Advertise SIZE without smtp-server's own check, whose reply lacks the 5.3.4 code; onMailFrom checks it.
      size: opts.listen.maxMessageBytes,
      hideSize: true,
      maxClients: opts.listen.maxClients,
      maxCommandLength: MAX_COMMAND_LENGTH,
      // Loopback senders (JTS, Buildbot) do not authenticate; LAN auth and STARTTLS come with their own settings.
      disabledCommands: ['AUTH', 'STARTTLS'],
      authOptional: true,
      // Never look up the client's name: a slow DNS must not hold a connection slot.
      disableReverseLookup: true,
      logger: this.rcptLines.logger,
      closeTimeout: 5000,
      onConnect: (session, cb) => this.onConnect(session, cb),
      onMailFrom: (address, session, cb) => void this.onMailFrom(address, session, cb),
      onRcptTo: (address, session, cb) => this.onRcptTo(address, session, cb),
      onData: (stream, session, cb) => void this.onData(stream, session, cb),
      onClose: (session) => this.onClose(session),
    });
    this.server.on('error', (e) => opts.log.error(`smtp server error: ${e.message}`));
    // Allowed clients (JavaMail opens one connection per message) are greeted without smtp-server's 100 ms
    // early-talker pause; see greeting.ts.
    greetPromptly(this.server, this.allowed);
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
    const ip = session.remoteAddress;
    if (!this.allowed(ip)) {
      this.opts.log.warn(`reject: connect from [${ip}]: not in listen.allowedClients`);
      return cb(reply(554, `5.7.1 ${this.hostname} Access denied: [${ip}] is not an allowed client of this relay`));
    }
    const cap = this.opts.listen.maxConnectionsPerClient;
    let fromIp = 0;
    for (const c of this.server.connections) if (c.remoteAddress === ip) fromIp++;
    if (fromIp > cap) {
      this.opts.log.warn(`reject: connect from [${ip}]: more than ${cap} connections from one address (listen.maxConnectionsPerClient)`);
      return cb(reply(421, `4.7.0 ${this.hostname} Error: too many connections from [${ip}]; try again later`));
    }
    this.startDeadline(session.id);
    cb();
  }

  /** Cuts a session that outlives listen.maxSessionTime, however busy it keeps its socket. */
  private startDeadline(id: string, ms = parseDuration(this.opts.listen.maxSessionTime)): void {
    this.deadlines.set(id, setTimeout(() => {
      // The message is in and being committed: let the client have its reply first.
      if (this.inflight.get(id)?.readableEnded) return this.startDeadline(id, 1000);
      const connection = [...this.server.connections].find((c) => c.id === id);
      if (!connection) return;
      this.opts.log.warn(`disconnect: [${connection.remoteAddress}] reached the session time limit (listen.maxSessionTime ${this.opts.listen.maxSessionTime})`);
      connection.send(421, `4.4.2 ${this.hostname} Error: session time limit exceeded; closing connection`); // 421 also closes
    }, ms).unref());
  }

  private onClose(session: SMTPServerSession): void {
    // Destroyed with an error only while onData reads it: an 'error' nobody listens to (onData still
    // opening the spool file) would crash the process. Unread, it fails onData as a premature close.
    const stream = this.inflight.get(session.id);
    stream?.destroy(stream.listenerCount('error') ? new Error('client disconnected during DATA') : undefined);
    clearTimeout(this.deadlines.get(session.id));
    this.deadlines.delete(session.id);
    this.rcptLines.forget(session.id);
    this.recipients.delete(session.id);
  }

  private async onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error) => void): Promise<void> {
    this.recipients.set(session.id, new Recipients()); // a new transaction
    if (!isValidUtf8(address.address)) return cb(reply(553, `5.1.7 <${address.address}>: the sender address is not valid UTF-8`));
    const max = this.opts.listen.maxMessageBytes;
    const args = address.args as Record<string, string> | false;
    const declared = Number((args && args.SIZE) || 0);
    if (declared > max) {
      return cb(reply(552, `5.3.4 Message size exceeds fixed maximum message size (${max} bytes)`));
    }
    const free = await this.freeSpace.available();
    const low = free !== null && free < FREE_SPACE_FACTOR * max;
    if (low !== this.diskLow) {
      this.diskLow = low;
      const mb = (n: number) => `${Math.floor(n / 1e6)} MB`;
      if (low) this.opts.log.warn(`the spool's disk (${this.opts.spool.paths.root}) has only ${mb(free ?? 0)} free, less than ${FREE_SPACE_FACTOR} × listen.maxMessageBytes (${mb(FREE_SPACE_FACTOR * max)}): new mail is refused with 452 4.3.1 until space is freed; queued mail is still delivered`);
      else this.opts.log.info(`the spool's disk has room again: accepting new mail`);
    }
    if (low) return cb(reply(452, '4.3.1 Insufficient system storage; try again later'));
    cb();
  }

  private onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error) => void): void {
    const line = this.rcptLines.take(session.id);
    // Fail closed: without the line as sent, a source route cannot be ruled out.
    if (line === undefined) return cb(reply(451, '4.3.0 Error: cannot check the recipient; try again later'));
    const refused = refuseRecipient(address.address, line);
    if (refused) {
      this.opts.log.warn(`reject: RCPT from [${session.remoteAddress}]: ${refused}`);
      return cb(reply(553, refused));
    }
    const list = this.recipients.get(session.id) ?? new Recipients(); // smtp-server lets no RCPT precede MAIL
    this.recipients.set(session.id, list);
    if (!list.has(address.address) && list.size >= this.opts.listen.maxRecipients) {
      return cb(reply(452, `4.5.3 Error: too many recipients (at most ${this.opts.listen.maxRecipients} per message)`));
    }
    list.add(address.address);
    cb();
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, msg?: string) => void): Promise<void> {
    this.inflight.set(session.id, stream);
    // The envelope as it stands at DATA: a client that leaves while the message is still being written
    // ends the session (onClose forgets its recipients) after it may already have sent the whole message.
    const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const to = [...this.recipientsOf(session)];
    let ingest: Ingest | null = null;
    try {
      ingest = await this.opts.spool.beginIngest();
      const result = await this.receive(stream, session, ingest, { from, to });
      if ('refused' in result) {
        await ingest.abort();
        return cb(result.refused);
      }
      const dataEnd = Date.now();
      const id = await ingest.commit({
        from, to, client: { ip: session.remoteAddress, helo: session.hostNameAppearsAs || '' }, subject: result.subject, messageId: result.messageId,
        // Carried to delivery: BODY=8BITMIME and SMTPUTF8 go upstream, or the message is returned (deliver/extensions.ts).
        eightBit: result.eightBit || session.envelope.bodyType === '8bitmime', smtputf8: session.envelope.smtpUtf8 === true,
      });
      this.opts.log.info(receivedLine({ id, from, to, messageId: result.messageId, size: stream.byteLength, client: `[${session.remoteAddress}]`, commitSeconds: (Date.now() - dataEnd) / 1000 }));
      cb(null, `2.0.0 Ok: queued as ${id}`);
      this.opts.onQueued?.(id);
    } catch (e) {
      await ingest?.abort();
      stream.resume(); // the reply is sent only after the stream ends
      const err = e as NodeJS.ErrnoException;
      // smtp-server ends the stream with ECONNECTION when the client leaves; our onClose, with its own.
      if (err.message === 'client disconnected during DATA' || err.code === 'ERR_STREAM_PREMATURE_CLOSE' || err.code === 'ECONNECTION') {
        this.opts.log.info(`lost connection after DATA from [${session.remoteAddress}]: nothing queued`);
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

  private recipientsOf(session: SMTPServerSession): string[] {
    return this.recipients.get(session.id)?.list ?? [];
  }

  /**
   * Streams DATA into the spool. Returns the reply for a message that must be refused; the stream is
   * always read to its end (smtp-server answers only then), but nothing more is stored once a limit is hit,
   * so memory stays flat however much a client sends.
   */
  private async receive(
    stream: SMTPServerDataStream, session: SMTPServerSession, ingest: Ingest, { from, to: rcpts }: { from: string; to: string[] },
  ): Promise<{ refused: Error } | { subject: string; eightBit: boolean; messageId: string }> {
    const arrived = new Date();
    await ingest.write(Buffer.from(receivedHeader({
      helo: session.hostNameAppearsAs || '', ip: session.remoteAddress, hostname: this.hostname,
      protocol: session.transmissionType || 'ESMTP', id: ingest.id, rcpt: rcpts.length === 1 ? rcpts[0] : undefined, date: arrived,
    })));
    const headers = new HeaderSection({ date: arrived, messageId: `${ingest.id}@${this.hostname}`, from });
    const lineEnds = new LineEndings();
    const rejectBare = this.opts.listen.bareLineEndings === 'reject';
    const max = this.opts.listen.maxMessageBytes;
    let bytes = 0;
    let eightBit = false;
    let writeError: Error | null = null;
    for await (const raw of stream as AsyncIterable<Buffer>) {
      const chunk = lineEnds.push(raw);
      bytes += chunk.length;
      eightBit ||= !isAscii(chunk);
      if (bytes > max || writeError || (rejectBare && lineEnds.found)) continue;
      try {
        for (const part of headers.push(chunk)) await ingest.write(part);
      } catch (e) {
        writeError = e as Error; // keep draining; the reply waits for the end of DATA
      }
    }
    lineEnds.end();
    if (writeError) throw writeError;
    if (bytes > max) return { refused: reply(552, `5.3.4 Error: message file too big (limit ${max} bytes)`) };
    if (rejectBare && lineEnds.found) {
      this.opts.log.warn(`reject: message from [${session.remoteAddress}] contains a bare CR, bare LF or NUL (listen.bareLineEndings is "reject")`);
      return { refused: reply(550, '5.6.0 Error: message contains a bare CR or LF (a line end that is not CRLF) or a NUL byte; not accepted') };
    }
    for (const part of headers.end()) await ingest.write(part);
    if (headers.received > MAX_RECEIVED_HEADERS) {
      this.opts.log.warn(`reject: mail loop from [${session.remoteAddress}]: ${headers.received} Received headers`);
      return { refused: reply(554, `5.4.0 Error: too many hops (${headers.received} Received headers; mail loop?)`) };
    }
    return { subject: headers.subject, eightBit, messageId: headers.messageId };
  }
}
