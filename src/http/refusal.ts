// A request refused before it reaches a door, answered in that door's own error format.
import { StorageUnavailableError } from '../config/errors.ts';
import type { Logger } from '../logging.ts';
import { problemResponse } from '../rest/problem.ts';
import { storageRetryAfterSeconds } from '../store/storage-failures.ts';
import { Response } from './fetch-api.ts';
import { requestIdOf } from './request-log.ts';
import { pathOf } from './request-path.ts';

/**
 * A failure nobody expected, before any door: logged with its cause, answered 500 without details;
 * or the database unavailable (looking up a key): 503 STORAGE_UNAVAILABLE.
 */
export function unexpectedFailure(request: Request, logger: Logger, error: unknown): Response {
  const requestId = requestIdOf(request);
  if (error instanceof StorageUnavailableError) {
    logger.error({ err: error, requestId, path: pathOf(request) }, 'storage unavailable');
    return refusal(request, 503, 'STORAGE_UNAVAILABLE', error.message, {
      'retry-after': String(storageRetryAfterSeconds),
    });
  }
  logger.error({ err: error, requestId, path: pathOf(request) }, 'unexpected error');
  return refusal(request, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
}

/** problem+json under /api/, a GraphQL response with a coded error elsewhere. */
export function refusal(
  request: Request,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  if (pathOf(request).startsWith('/api/')) return problemResponse(status, code, message, { headers });
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}
