// Reading a spooled message for delivery: byte-exact, and with buffers sized to the message (a plain
// read stream allocated 64 KB per read, twice for a 5 KB message: most of what a delivery allocated).
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, expect, it, vi } from 'vitest';
import { openMessage } from '../src/deliver/message-stream.js';

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'message-stream-'));
afterAll(() => fs.rm(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

async function spooled(name: string, content: Buffer): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, content);
  return file;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Bytes Node's file streams allocate for their reads (they take each block from Buffer.allocUnsafeSlow). */
function countAllocations(): () => number {
  let bytes = 0;
  const real = Buffer.allocUnsafeSlow.bind(Buffer);
  vi.spyOn(Buffer, 'allocUnsafeSlow').mockImplementation((n: number) => {
    bytes += n;
    return real(n);
  });
  return () => bytes;
}

const headers = 'Received: from x\r\nFrom: <a@jts.localdomain>\r\nSubject: hi\r\n\r\n';

it('a 5 KB message is read whole, in one block the size of the message', async () => {
  const content = Buffer.concat([Buffer.from(headers), crypto.randomBytes(5000 - headers.length)]);
  const file = await spooled('small.eml', content);
  const allocated = countAllocations();
  const { stream, size } = await openMessage(file);
  expect(size).toBe(5000);
  expect((await readAll(stream)).equals(content)).toBe(true);
  expect(allocated()).toBeLessThanOrEqual(2 * 5000);
});

it('a rewritten header section and the body after it arrive exact, the body read in blocks of what is left', async () => {
  const body = crypto.randomBytes(3000);
  const file = await spooled('rewritten.eml', Buffer.concat([Buffer.from(headers), body]));
  const allocated = countAllocations();
  const { stream, size } = await openMessage(file, (section) => section.replace('jts.localdomain', 'contoso.com'));
  const out = await readAll(stream);
  expect(out.equals(Buffer.concat([Buffer.from(headers.replace('jts.localdomain', 'contoso.com')), body]))).toBe(true);
  expect(size).toBe(out.length);
  expect(allocated()).toBeLessThanOrEqual(2 * 3000);
});

it('a message larger than one block, and one with nothing after its header section, arrive exact', async () => {
  const big = Buffer.concat([Buffer.from(headers), crypto.randomBytes(200_000)]);
  expect((await readAll((await openMessage(await spooled('big.eml', big))).stream)).equals(big)).toBe(true);
  const onlyHeaders = await spooled('only-headers.eml', Buffer.from(headers));
  const { stream, size } = await openMessage(onlyHeaders, (s) => s);
  expect(size).toBe(headers.length);
  expect((await readAll(stream)).toString('latin1')).toBe(headers);
});
