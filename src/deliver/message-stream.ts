// Reads a spooled message for sending, with its header section passed through a rewrite (sender
// rewriting) when one is given. Only the header section is held in memory; the body streams from disk.
import fs, { type FileHandle } from 'node:fs/promises';
import { pipeline, Readable, Transform } from 'node:stream';
import type { Attempt } from './classify.js';
import type { Conversation } from './conversation.js';
import type { OutgoingMessage } from './transport.js';

/** Larger header sections are sent unchanged: a rewrite must never truncate a message. */
const MAX_HEADER = 256 * 1024;
/** Largest read: fs streams' default block. */
const READ_BLOCK = 64 * 1024;

export interface OpenedMessage {
  stream: Readable;
  /** Bytes that will be sent (the file's size, adjusted by the rewrite). */
  size: number;
}

/**
 * The message of one attempt as nodemailer sends it: our own stream rather than raw:{path}, because
 * its 'end' (recorded in `attempt.bodySent`) tells a reply lost after the final dot (maybe delivered)
 * from one lost earlier, which nodemailer reports identically. Destroy `body` when the attempt ends.
 */
export async function mailFor(message: OutgoingMessage, attempt: Attempt, conversation: Conversation, signal: AbortSignal) {
  const { envelope, rewriteHeaders } = message;
  const opened = await openMessage(message.contentPath, rewriteHeaders, () => conversation.taken());
  const body = opened.stream;
  body.once('end', () => { attempt.bodySent = true; });
  // nodemailer copies use8BitMime from the envelope to MAIL FROM's BODY=8BITMIME.
  const size = rewriteHeaders ? opened.size : message.size;
  return { body, mail: { envelope: { from: envelope.from, to: envelope.to, size, use8BitMime: envelope.eightBit === true }, raw: body, messageId: conversation.token, signal } };
}

/** `onRead` is called for each block the connection takes (the data phase's clock, conversation.ts). */
export async function openMessage(rawPath: string, rewriteHeaders?: (section: string) => string, onRead?: () => void): Promise<OpenedMessage> {
  const opened = await open(rawPath, rewriteHeaders);
  if (!onRead) return opened;
  // Called as the reader pulls, not as the file is read: buffers ahead of the socket fill and then stop.
  const counted = new Transform({ transform(chunk, _encoding, done) { onRead(); done(null, chunk); } });
  return { stream: pipeline(opened.stream, counted, () => {}), size: opened.size };
}

/**
 * Reads [start, size) in blocks of at most 64 KB, each sized to what is left: a plain read stream
 * allocates 64 KB per read whatever the file's size, copies the bytes read into a second buffer, and
 * reads once more to find the end (about 130 KB of buffers for a 5 KB message, most of what delivery
 * allocated per message).
 */
function readRange(fh: FileHandle, start: number, size: number): Readable {
  if (start >= size) {
    void fh.close(); // nothing to read: the stream that would close it is not made
    return Readable.from([], { objectMode: false });
  }
  return fh.createReadStream({ start, end: size - 1, highWaterMark: Math.min(size - start, READ_BLOCK) });
}

async function open(rawPath: string, rewriteHeaders?: (section: string) => string): Promise<OpenedMessage> {
  const fh = await fs.open(rawPath, 'r');
  const { size } = await fh.stat();
  if (!rewriteHeaders) return { stream: readRange(fh, 0, size), size };
  const head = Buffer.alloc(Math.min(size, MAX_HEADER));
  await fh.read(head, 0, head.length, 0);
  const end = head.indexOf('\r\n\r\n');
  if (end < 0) return { stream: readRange(fh, 0, size), size };
  // latin1 maps each byte to one char and back, so untouched bytes (8-bit names, UTF-8) survive exactly.
  const section = head.subarray(0, end + 2).toString('latin1');
  const rewritten = Buffer.from(rewriteHeaders(section), 'latin1');
  const rest = readRange(fh, end + 2, size);
  const stream = Readable.from((async function* () {
    yield rewritten;
    yield* rest;
  })(), { objectMode: false });
  stream.once('close', () => rest.destroy());
  return { stream, size: size - (end + 2) + rewritten.length };
}
