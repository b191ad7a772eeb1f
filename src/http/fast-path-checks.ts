// What the fast paths on node:http share: reading a small body, the guard's limits, and which origins
// they may echo the way yoga's CORS handling does.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Actor } from '../auth/actor.ts';
import type { CachedConfigStore } from '../store/cached-store.ts';
import type { ApiKeyRecord } from '../store/config-store.ts';
import type { RequestGuard } from './api-key-auth.ts';

/**
 * The live key of this hash: from the cache, or read into it from the database, except for an
 * address already refused for sending unknown keys (yoga answers those, without a lookup).
 * Undefined for an unknown key: yoga answers it, and counts it against the address.
 */
export async function keyRecordOf(cache: CachedConfigStore, guard: RequestGuard, req: IncomingMessage, keyHash: string): Promise<ApiKeyRecord | undefined> {
  const cached = cache.peekApiKey(keyHash);
  if (cached) return cached;
  if (await guard.addressThrottled(guard.clientAddress(req))) return undefined;
  return cache.findApiKeyByHash(keyHash);
}

/**
 * Counts the request against the same limits, on the same counters, as the yoga plugin. Over a
 * limit it is not admitted, and yoga answers the 429 (it counts the request once more, which does
 * not move when the window ends).
 */
export async function admittedByGuard(guard: RequestGuard, req: IncomingMessage, actor: Actor): Promise<boolean> {
  if (await guard.addressThrottled(guard.clientAddress(req))) return false;
  return !(await guard.keyThrottled(actor));
}

/** No CORS preflight's questions, and no origin that yoga would echo differently (empty, or a list). */
export function plainOrigin(headers: IncomingHttpHeaders): boolean {
  return (
    headers['access-control-request-method'] === undefined &&
    headers['access-control-request-headers'] === undefined &&
    (headers.origin === undefined || (headers.origin !== '' && !headers.origin.includes(',')))
  );
}

/** Reads the whole body (its length is declared and small); null if the client went away. */
export function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', () => resolve(null));
    req.once('aborted', () => resolve(null));
  });
}
