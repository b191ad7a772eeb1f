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

export function useRequestLog(logger: Logger): Plugin {
  return {
    onRequest({ request }) {
      const given = request.headers.get('x-request-id');
      const id = given && /^[\w.:-]{1,100}$/.test(given) ? given : randomUUID();
      started.set(request, { id, at: performance.now() });
    },
    onResponse({ request, response }) {
      const start = started.get(request);
      if (!start) return;
      response.headers.set('x-request-id', start.id);
      // Method, path and status only: never headers (keys) nor bodies (configurations).
      logger.info(
        { requestId: start.id, method: request.method, path: pathOf(request), status: response.status, ms: Math.round((performance.now() - start.at) * 10) / 10 },
        'request',
      );
    },
  };
}
