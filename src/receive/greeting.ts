// The greeting without smtp-server's early-talker pause, for clients we already trust.
//
// smtp-server waits a hard-coded 100 ms before every 220 greeting (smtp-connection.js, init():
// `setTimeout(() => this.connectionReady(), 100)`) so that a spam bot that talks before the banner
// can be caught ("421 You talk too soon"). There is no option to turn it off. For the clients this
// relay serves, the pause is pure cost: JavaMail's Transport.send (IBM Jazz Team Server), PHP's
// mail() through a local relay and most monitoring tools open one connection per message, so a
// single such sender could never pass ~10 messages a second. Postfix greets at once.
//
// greetPromptly() greets an allowed client (listen.allowedClients, loopback by default) as soon as
// the connection is set up, through smtp-server's own public connectionReady(): the same code path the
// timer would have run, only without the wait; the timer's later call is made a no-op. Everyone else
// keeps the pause (and is then refused by onConnect anyway). Nothing about the session changes: the
// client still cannot send a command before the greeting, because the greeting is written before any
// of its bytes are read.
//
// Depends on two facts of smtp-server 3.x, both checked by test/greeting.test.ts so that an upgrade
// that changes them fails a test rather than greeting twice or not at all: SMTPServer.connect()
// creates the connection, adds it to `connections` and calls init() synchronously; and the timer
// calls `this.connectionReady()` by name when it fires.
import type { SMTPServer } from 'smtp-server';
import type { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

/** Makes `server` greet connections from clients for which `trusted(ip)` holds without the 100 ms pause. */
export function greetPromptly(server: SMTPServer, trusted: (ip: string) => boolean): void {
  const handled = new WeakSet<SMTPConnection>();
  const connect = server.connect.bind(server);
  server.connect = (socket, socketOptions) => {
    connect(socket, socketOptions);
    // The connection just made is the one not seen before (at most maxClients to look through). A
    // connection refused by maxClients is already closed and gone from the set: nothing to do then.
    for (const c of server.connections) {
      if (handled.has(c)) continue;
      handled.add(c);
      if (trusted(c.remoteAddress)) greetNow(c);
    }
  };
}

function greetNow(c: SMTPConnection): void {
  const ready = c.connectionReady;
  c.connectionReady = () => {}; // the 100 ms timer still fires: it must not greet a second time
  ready.call(c);
}
