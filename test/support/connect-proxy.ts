// A corporate forward proxy on loopback: HTTP CONNECT tunnels only (what clients use for https://),
// optionally demanding Basic credentials (407 otherwise). It records each tunnel asked for.
import http from 'node:http';
import net from 'node:net';

export interface ConnectProxy {
  url: string;
  port: number;
  /** "host:port" of every tunnel opened, in order. */
  tunnels: string[];
  /** Requests refused, as "407 host:port" or "502 host:port". */
  refused: string[];
  stop(): Promise<void>;
}

export async function startConnectProxy(opts: { credentials?: { user: string; pass: string } } = {}): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const refused: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.writeHead(405).end('CONNECT only\n'));
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    const target = req.url ?? '';
    const expected = opts.credentials && `Basic ${Buffer.from(`${opts.credentials.user}:${opts.credentials.pass}`).toString('base64')}`;
    if (expected && req.headers['proxy-authorization'] !== expected) {
      refused.push(`407 ${target}`);
      return void client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\n\r\n');
    }
    const m = /^(.+):(\d+)$/.exec(target);
    const upstream = net.connect(Number(m?.[2]), (m?.[1] ?? '').replace(/^\[(.*)\]$/, '$1'));
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.once('connect', () => {
      tunnels.push(target);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => {
      refused.push(`502 ${target}`);
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`, port, tunnels, refused,
    stop: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
