// A real webhook receiver on 127.0.0.1 that answers as each test tells it: 2xx, errors, time-outs, slow answers, dropped connections, redirects.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export type Behaviour =
  | { kind: 'ok'; status?: number; delayMs?: number; body?: string }
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'hang' }
  | { kind: 'drop' }
  | { kind: 'redirect'; location: string }
  | { kind: 'huge'; bytes: number };

export interface Received {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** What it was answered. */
  readonly behaviour: Behaviour['kind'];
  /** Whether the answer was a 2xx (what the sender counts as delivered). */
  readonly acknowledged: boolean;
}

export interface Receiver {
  readonly baseUrl: string;
  readonly received: Received[];
  /** The most requests one path had in flight at once. */
  readonly maxInFlight: Map<string, number>;
  /** How the next request to a path (its index among that path's requests) is answered; ok by default. */
  behave(decide: (path: string, index: number) => Behaviour): void;
  /** Requests of a path answered 2xx, in arrival order. */
  acknowledged(path: string): Received[];
  /** Resolves once `condition` holds over what was received; fails after timeoutMs. */
  waitFor(condition: (received: Received[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const counts = new Map<string, number>();
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  const waiters = new Set<() => void>();
  let decide: (path: string, index: number) => Behaviour = () => ({ kind: 'ok' });
  const hanging = new Set<ServerResponse>();

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = request.url ?? '/';
    const index = counts.get(path) ?? 0;
    counts.set(path, index + 1);
    inFlight.set(path, (inFlight.get(path) ?? 0) + 1);
    maxInFlight.set(path, Math.max(maxInFlight.get(path) ?? 0, inFlight.get(path)!));
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const behaviour = decide(path, index);
      const acknowledged = (behaviour.kind === 'ok' && (behaviour.status ?? 200) < 300) || false;
      const record = () => {
        inFlight.set(path, inFlight.get(path)! - 1);
        received.push({
          path,
          headers: request.headers as Record<string, string>,
          body: Buffer.concat(chunks).toString('utf8'),
          behaviour: behaviour.kind,
          acknowledged,
        });
        for (const wake of waiters) wake();
      };
      switch (behaviour.kind) {
        case 'ok': {
          const answer = () => {
            record();
            response.writeHead(behaviour.status ?? 200, { 'content-type': 'text/plain' });
            response.end(behaviour.body ?? 'thanks');
          };
          if (behaviour.delayMs) setTimeout(answer, behaviour.delayMs);
          else answer();
          return;
        }
        case 'status':
          record();
          response.writeHead(behaviour.status, { 'content-type': 'text/plain' });
          response.end(behaviour.body ?? 'no');
          return;
        case 'hang':
          record();
          hanging.add(response);
          response.on('close', () => hanging.delete(response));
          return;
        case 'drop':
          record();
          request.socket.destroy();
          return;
        case 'redirect':
          record();
          response.writeHead(302, { location: behaviour.location });
          response.end();
          return;
        case 'huge':
          record();
          response.writeHead(200, { 'content-type': 'text/plain' });
          response.write('x'.repeat(behaviour.bytes));
          // Never ended: the sender must stop reading at its limit.
          hanging.add(response);
          return;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    received,
    maxInFlight,
    behave(next) {
      decide = next;
    },
    acknowledged(path) {
      return received.filter((entry) => entry.path === path && entry.acknowledged);
    },
    waitFor(condition, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!condition(received)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `the receiver did not get what was expected in ${timeoutMs} ms (${received.length} requests)`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The version a delivery carries, after checking its signature with `secret` (throws when it does not verify). */
export function verifiedVersion(entry: Received, secret: string): number {
  const payload = new Webhook(secret).verify(entry.body, entry.headers) as { data: { version: number } };
  return payload.data.version;
}
