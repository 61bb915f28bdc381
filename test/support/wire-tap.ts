// A TCP proxy that records every byte a client sends to a server, exactly as it crossed the wire
// (before any SMTP parsing or dot-unstuffing). Put it between the relay and the upstream to see what
// the relay really sent the smarthost.
import net from 'node:net';

export interface WireTap {
  port: number;
  /** Everything clients sent through the tap, over all connections, in order of arrival. */
  sent(): Buffer;
  stop(): Promise<void>;
}

export async function startWireTap(targetPort: number, targetHost = '127.0.0.1'): Promise<WireTap> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.on('data', (d: Buffer) => chunks.push(Buffer.from(d)));
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sent: () => Buffer.concat(chunks),
    stop: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
