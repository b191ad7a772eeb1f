// For the fast-path tests: answers as sent on the wire (every header, in order), to compare a fast
// path's answer with yoga's byte for byte, and a gateway that counts what reaches yoga.
import { request as httpRequest } from 'node:http';
import type { Gateway } from '../../src/gateway.ts';

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
