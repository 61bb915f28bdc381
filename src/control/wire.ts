// Framing shared by both ends of the control channel: one JSON object per line, each way, and the
// handshake messages that come before any call.
import crypto from 'node:crypto';
import type net from 'node:net';
import type { ConnectionStep, RelayError, RelayStatus } from '../api/contract.js';

const MAX_LINE = 1024 * 1024;
/** How long either side waits for the other's part of the handshake. */
export const HANDSHAKE_MS = 5000;

export type Hello = { hello: 1; nonce: string; proof?: string };
export type ClientProof = { proof: string };
export type Verdict = { welcome: 1 } | { refused: string };
export type Request = { id: number; method: string; args?: unknown[] };
export type Response = { id: number; result?: unknown; error?: { kind: RelayError['kind']; message: string } }
  | { event: 'status'; status: RelayStatus } | { event: 'step'; step: ConnectionStep };

export function nonce(): string {
  return crypto.randomBytes(16).toString('hex');
}

export function sendLine(socket: net.Socket, message: object): void {
  if (socket.writable) socket.write(JSON.stringify(message) + '\n');
}

/** Calls onLine for each complete line; a line over 1 MiB, or an onLine that throws, ends the connection. */
export function readLines(socket: net.Socket, onLine: (line: string) => Promise<void> | void): void {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    if (buffer.length > MAX_LINE) return void socket.destroy(new Error('control message over 1 MiB'));
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line) void Promise.resolve().then(() => onLine(line)).catch((e: Error) => socket.destroy(e));
    }
  });
}

/** A call from a client that passed the handshake; anything else is a protocol error. */
export function toRequest(msg: Record<string, unknown>): Request {
  const { id, method, args } = msg;
  if (typeof id !== 'number' || typeof method !== 'string' || !(args === undefined || Array.isArray(args))) throw new Error('control message is not a call');
  return { id, method, ...(args === undefined ? {} : { args }) };
}

/**
 * The relay's answer to a call, or an event. Its shape is checked; its payload (a status, a result) is
 * the relay's own, which proved it holds the control key.
 */
export function toResponse(msg: Record<string, unknown>): Response {
  if (msg.event === 'status' && typeof msg.status === 'object' && msg.status !== null) return { event: 'status', status: msg.status as RelayStatus };
  if (msg.event === 'step' && typeof msg.step === 'object' && msg.step !== null) return { event: 'step', step: msg.step as ConnectionStep };
  if (typeof msg.id !== 'number') throw new Error('control message is not an answer');
  const error = msg.error as { kind?: unknown; message?: unknown } | undefined;
  if (error === undefined) return { id: msg.id, result: msg.result };
  if (typeof error !== 'object' || error === null || typeof error.kind !== 'string' || typeof error.message !== 'string') throw new Error('control message has a malformed error');
  return { id: msg.id, error: { kind: error.kind as RelayError['kind'], message: error.message } };
}

/** Parses a line as a JSON object; anything else is a protocol error. */
export function parseLine(line: string): Record<string, unknown> {
  const v: unknown = JSON.parse(line);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('control message is not a JSON object');
  return v as Record<string, unknown>;
}
