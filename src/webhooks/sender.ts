// One webhook request: to the address already checked (no second lookup), no redirects, short time-outs, a small answer read.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ResolvedAddress } from './address-policy.ts';

export interface SendLimits {
  /** The whole attempt, from connecting to the end of the answer (or of what is read of it). */
  readonly timeoutMs: number;
  /** Bytes of the answer read; the rest is not waited for. */
  readonly maxAnswerBytes: number;
}

export const defaultSendLimits: SendLimits = { timeoutMs: 10_000, maxAnswerBytes: 4_096 };

/** Characters of the answer kept in the delivery log. */
export const excerptLength = 200;

export interface SendOutcome {
  /** The HTTP status, or null when no answer came (then `error` says why). */
  readonly status: number | null;
  readonly error: string | null;
  /** The start of the answer's body, at most excerptLength characters. */
  readonly excerpt: string | null;
  readonly durationMs: number;
}

/** A lookup that answers the checked address, whatever name it is asked for: the connection goes where the check looked. */
function fixedLookup(target: ResolvedAddress): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  }) as unknown as LookupFunction;
}

/**
 * POSTs `body` to `url` at `target`. Never throws: a refused connection, a time-out or a dropped
 * connection is an outcome with an error. A redirect is an answer like any other (3xx, not followed).
 */
export function sendWebhook(
  url: URL,
  target: ResolvedAddress,
  body: string,
  headers: Record<string, string>,
  limits: SendLimits = defaultSendLimits,
): Promise<SendOutcome> {
  const started = performance.now();
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: Omit<SendOutcome, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      request.destroy();
      resolve({ ...outcome, durationMs: Math.round(performance.now() - started) });
    };
    const request = client.request(url, {
      method: 'POST',
      lookup: fixedLookup(target),
      // A connection of its own each time: a pooled one could outlive the address check it was made for.
      agent: false,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'user-agent': 'org-config-webhooks/1',
        ...headers,
      },
    });
    const deadline = setTimeout(
      () => finish({ status: null, error: `timed out after ${limits.timeoutMs} ms`, excerpt: null }),
      limits.timeoutMs,
    );
    request.on('error', (error: NodeJS.ErrnoException) =>
      finish({ status: null, error: error.code ?? error.message, excerpt: null }),
    );
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () =>
        finish({
          status: response.statusCode ?? null,
          error: null,
          excerpt: Buffer.concat(chunks).toString('utf8').slice(0, excerptLength),
        });
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= limits.maxAnswerBytes) done();
      });
      response.on('end', done);
      // The status came; a body cut short afterwards still tells what the receiver answered.
      response.on('aborted', done);
      response.on('error', done);
    });
    request.end(body);
  });
}
