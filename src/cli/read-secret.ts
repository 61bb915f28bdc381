// Reads a secret for `password set`: from a pipe as is (scripts, services), or typed at a console
// without echo. The secret is never an argument, so it stays out of shell history and process lists.
import { text } from 'node:stream/consumers';

export async function readSecret(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return (await text(stdin)).replace(/\r?\n$/, '');
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  let secret = '';
  try {
    for await (const chunk of stdin as AsyncIterable<string>) {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return secret;
        if (ch === '\u0003') throw new Error('cancelled');
        if (ch === '\u007f' || ch === '\b') secret = secret.slice(0, -1);
        else secret += ch;
      }
    }
    return secret;
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}
