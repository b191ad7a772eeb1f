// A request id for every request (kept from x-request-id when sane), and one log line per answer.
import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../logging.ts';
import { pathOf } from './request-path.ts';

const started = new WeakMap<Request, { id: string; at: number }>();

/** The id of a request, for logs and error reports; "-" outside a request. */
export function requestIdOf(request: Request | undefined): string {
  return (request && started.get(request)?.id) ?? '-';
}

/** A request rebuilt on the way in (its body read, say) keeps the id and start of the original. */
export function carryRequestLog(from: Request, to: Request): void {
  const start = started.get(from);
  if (start) started.set(to, start);
}

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

export function useRequestLog(logger: Logger): Plugin {
  return {
    onRequest({ request }) {
      started.set(request, { id: requestIdFrom(request.headers.get('x-request-id')), at: performance.now() });
    },
    onResponse({ request, response }) {
      const start = started.get(request);
      if (!start) return;
      response.headers.set('x-request-id', start.id);
      logAnswer(logger, start.id, request.method, pathOf(request), response.status, start.at);
    },
  };
}
