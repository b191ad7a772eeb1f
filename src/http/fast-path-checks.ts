// What the fast paths on node:http share: reading a small body, the guard's limits, which origins
// they may echo the way yoga's CORS handling does, and writing a GraphQL answer as yoga does.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Actor } from '../auth/actor.ts';
import { isExpired } from '../auth/api-keys.ts';
import type { Logger } from '../logging.ts';
import type { CachedConfigStore } from '../store/cached-store.ts';
import type { ApiKeyRecord } from '../store/config-store.ts';
import type { RequestGuard } from './api-key-auth.ts';
import { logAnswer } from './request-log.ts';

/**
 * The live key of this hash: from the cache, or read into it from the database, except for an
 * address already refused for sending unknown keys (yoga answers those, without a lookup).
 * Undefined for an unknown key: yoga answers it, and counts it against the address.
 */
export async function keyRecordOf(
  cache: CachedConfigStore,
  guard: RequestGuard,
  req: IncomingMessage,
  keyHash: string,
): Promise<ApiKeyRecord | undefined> {
  const cached = cache.peekApiKey(keyHash);
  if (cached) return cached;
  if (await guard.addressThrottled(guard.clientAddress(req))) return undefined;
  const found = await cache.findApiKeyByHash(keyHash);
  // An expired key is yoga's to refuse (KEY_EXPIRED): checked now, against the stored expiry.
  return found && !isExpired(found, Date.now()) ? found : undefined;
}

/**
 * Counts the request against the same limits, on the same counters, as the yoga plugin. Over a
 * limit it is not admitted, and yoga answers the 429 (it counts the request once more, which does
 * not move when the window ends).
 */
export async function admittedByGuard(
  guard: RequestGuard,
  req: IncomingMessage,
  actor: Actor,
): Promise<boolean> {
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

/** A JSON object (not null, not an array). */
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

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

/** What answers a result or a failure the way yoga does; the caller writes it. */
export interface GraphQLAnswer {
  status: number;
  payload: Buffer;
}

/** Writes a GraphQL answer with the headers yoga writes, in its order, and its log line. */
export function writeGraphQLAnswer(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  answerType: string,
  requestId: string,
  answer: GraphQLAnswer,
  startedAt: number,
): void {
  const origin = req.headers.origin;
  // CORS as yoga's default (any origin, with credentials).
  const cors =
    origin === undefined
      ? {}
      : { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-allow-credentials': 'true' };
  res.writeHead(answer.status, {
    'Content-Type': answerType,
    'content-length': answer.payload.byteLength,
    ...cors,
    'x-request-id': requestId,
  });
  res.end(answer.payload);
  logAnswer(logger, requestId, 'POST', '/graphql', answer.status, startedAt);
}
