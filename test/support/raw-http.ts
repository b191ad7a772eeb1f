// For the fast-path tests: answers as sent on the wire (every header, in order), to compare a fast
// path's answer with yoga's byte for byte, and a gateway that counts what reaches yoga.
import { request as httpRequest } from 'node:http';
import type { Gateway } from '../../src/gateway.ts';
import { listen } from '../helpers.ts';

export interface RawAnswer {
  status: number;
  /** Header names and values in the order sent, without Date (the clock moves between two answers). */
  headers: [string, string][];
  body: Buffer;
}

export function sendRaw(baseUrl: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const pairs: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          if (res.rawHeaders[i]!.toLowerCase() !== 'date') pairs.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
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
