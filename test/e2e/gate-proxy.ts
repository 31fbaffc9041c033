/**
 * A TCP proxy in front of the storage server that can hold connections:
 * while closed, connections are accepted but nothing is forwarded, so a
 * dyno's download stays "in progress" for as long as a test needs to look.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface GateProxy {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  open(): void;
  close(): void;
  stop(): Promise<void>;
}

export async function startGateProxy(upstreamPort: number, initiallyOpen = true): Promise<GateProxy> {
  let isOpen = initiallyOpen;
  const waiting: Socket[] = [];
  const sockets = new Set<Socket>();
  const forward = (client: Socket) => {
    if (client.destroyed) return;
    const upstream = createConnection({ host: '127.0.0.1', port: upstreamPort });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    client.pipe(upstream).pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  };
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.pause();
    if (isOpen) forward(client);
    else waiting.push(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    open() {
      isOpen = true;
      for (let s = waiting.shift(); s; s = waiting.shift()) forward(s);
    },
    close() {
      isOpen = false;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
