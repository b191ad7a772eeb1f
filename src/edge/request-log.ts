// A request id for every request (kept from x-request-id when sane), and one log line per answer.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logging.ts';

/** The client's x-request-id when sane, else a new one. */
export function requestIdFrom(given: string | null | undefined): string {
  return given && /^[\w.:-]{1,100}$/.test(given) ? given : randomUUID();
}

/** The one log line of an answer. Method, path and status only: never headers (keys) nor bodies (configurations). */
export function logAnswer(
  logger: Logger,
  requestId: string,
  method: string,
  path: string,
  status: number,
  startedAt: number,
): void {
  if (logger.isLevelEnabled('info'))
    logger.info(
      { requestId, method, path, status, ms: Math.round((performance.now() - startedAt) * 10) / 10 },
      'request',
    );
}
