// A TCP relay between one gateway process and a shared server: cutting it takes the server away
// from that process alone, while the server goes on serving everyone else.
import { type AddressInfo, createServer, Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Drops every relayed connection and refuses new ones (closes them at once) until restore(). */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let relaying = true;
  const server = createServer((client) => {
    if (!relaying) {
      client.destroy();
      return;
    }
    const upstream = new Socket();
    open.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    upstream.connect(target.port, target.host, () => {
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cut = () => {
    relaying = false;
    for (const socket of open) socket.destroy();
    open.clear();
  };
  return {
    port: (server.address() as AddressInfo).port,
    cut,
    restore() {
      relaying = true;
    },
    async close() {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
