// For the fast-path tests: answers as sent on the wire (every header, in order), to compare a fast
// path's answer with yoga's byte for byte, and a gateway that counts what reaches yoga.
import { request as httpRequest } from 'node:http';
import type { Gateway } from '../../src/gateway.ts';
import { createLogger } from '../../src/logging.ts';
import { createTestGateway, listen, type TestGateway } from '../helpers.ts';

export interface RawAnswer {
  status: number;
  /** Header names and values in the order sent, without Date (the clock moves between two answers). */
  headers: [string, string][];
  body: Buffer;
}

export function sendRaw(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const pairs: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          if (res.rawHeaders[i]!.toLowerCase() !== 'date')
            pairs.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
        }
        resolve({ status: res.statusCode!, headers: pairs, body: Buffer.concat(chunks) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The same gateway (cache, guard, plans), counting the requests that reach yoga: those no fast path answered. */
export function countingYogaCalls(gateway: Gateway): { gateway: Gateway; calls: () => number } {
  let calls = 0;
  const counted = Object.assign((...args: Parameters<Gateway>) => {
    calls += 1;
    return gateway(...args);
  }, gateway) as unknown as Gateway;
  return { gateway: counted, calls: () => calls };
}

/** The gateway served twice, on the same cache, guard and plans: without its fast paths, and with them (counting what reaches yoga). */
export async function servedBothWays(gateway: Gateway) {
  const counted = countingYogaCalls(gateway);
  const fast = await listen(counted.gateway);
  const slow = await listen(gateway, { fastPaths: false });
  return {
    fast,
    slow,
    yogaCalls: counted.calls,
    /** The same request through yoga alone, then through the fast paths: both answers, and whether yoga answered the second. */
    async both(send: (baseUrl: string) => Promise<RawAnswer>) {
      const viaYoga = await send(slow.baseUrl);
      const callsBefore = counted.calls();
      const viaFastPath = await send(fast.baseUrl);
      return { viaYoga, viaFastPath, fellThrough: counted.calls() > callsBefore };
    },
    async close() {
      await fast.close();
      await slow.close();
    },
  };
}

/**
 * Two gateways on databases built alike, served without their fast paths and with them, each
 * logging its errors. To each, `prepare` sends what puts the fast path in place (a cached key, a
 * learnt operation); then its database connection turns read-only, so that every write fails inside
 * its transaction, and `send` sends the write. Both answers, whether yoga answered the fast one,
 * and how many "unexpected error" lines each logged.
 */
export async function writeRefusedBothWays(
  prepare: (baseUrl: string, gateway: TestGateway) => Promise<unknown>,
  send: (baseUrl: string, gateway: TestGateway) => Promise<RawAnswer>,
): Promise<{
  viaYoga: RawAnswer;
  viaFast: RawAnswer;
  fellThrough: boolean;
  unexpectedLogged: [number, number];
}> {
  const logs: Record<string, unknown>[][] = [[], []];
  const gateways = await Promise.all(
    logs.map((lines) =>
      createTestGateway({
        logger: createLogger('error', {
          write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
        }),
      }),
    ),
  );
  const countedFast = countingYogaCalls(gateways[1]!.gateway);
  const servers = [
    await listen(gateways[0]!.gateway, { fastPaths: false }),
    await listen(countedFast.gateway),
  ];
  try {
    const answers: RawAnswer[] = [];
    let callsBefore = 0;
    for (const [index, gateway] of gateways.entries()) {
      await prepare(servers[index]!.baseUrl, gateway);
      (gateway.store as unknown as { sqlite: { pragma(statement: string): unknown } }).sqlite.pragma(
        'query_only = ON',
      );
      callsBefore = countedFast.calls();
      answers.push(await send(servers[index]!.baseUrl, gateway));
    }
    // query_only makes every write fail as read-only files do: a storage failure, logged with its cause.
    const unexpected = logs.map(
      (lines) =>
        lines.filter((line) => line.msg === 'unexpected error' || line.msg === 'storage unavailable').length,
    );
    return {
      viaYoga: answers[0]!,
      viaFast: answers[1]!,
      fellThrough: countedFast.calls() > callsBefore,
      unexpectedLogged: [unexpected[0]!, unexpected[1]!],
    };
  } finally {
    for (const server of servers) await server.close();
    for (const gateway of gateways) await gateway.close();
  }
}
