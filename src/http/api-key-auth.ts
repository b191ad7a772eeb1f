// Authenticates each HTTP request once, by its x-api-key, and applies the rate limits:
// per API key, and per client address for requests with unknown keys.
import type { Plugin } from 'graphql-yoga';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Actor } from '../auth/actor.ts';
import { authenticate } from '../auth/api-keys.ts';
import type { RateLimits } from '../settings.ts';
import type { ConfigStore } from '../store/config-store.ts';
import type { Logger } from '../logging.ts';
import { refusal, unexpectedFailure } from './refusal.ts';

const actors = new WeakMap<Request, Actor | null>();

/** The actor of an HTTP request, as authenticated on its way in; undefined if it was not. */
export function actorOf(request: Request | undefined): Actor | null | undefined {
  return request ? actors.get(request) : undefined;
}

interface NodeServerContext {
  req?: { socket?: { remoteAddress?: string }; headers?: Record<string, string | string[] | undefined> };
}

function clientAddress(serverContext: NodeServerContext, trustProxy: boolean): string {
  const forwarded = serverContext.req?.headers?.['x-forwarded-for'];
  if (trustProxy && typeof forwarded === 'string') return forwarded.split(',')[0]!.trim();
  return serverContext.req?.socket?.remoteAddress ?? 'unknown';
}

function tooManyRequests(request: Request, wait: RateLimiterRes, what: string): Response {
  const seconds = Math.max(1, Math.ceil(wait.msBeforeNext / 1000));
  return refusal(request, 429, 'RATE_LIMITED', `${what}; retry in ${seconds} s`, { 'retry-after': String(seconds) });
}

export function useApiKeyAuth(options: { store: ConfigStore; limits: RateLimits; trustProxy: boolean; logger: Logger }): Plugin {
  const perKey = new RateLimiterMemory({ points: options.limits.perKeyPerMinute, duration: 60 });
  const failedAuth = new RateLimiterMemory({ points: options.limits.failedAuthPerMinute, duration: 60, blockDuration: 60 });
  return {
    async onRequest({ request, serverContext, endResponse }) {
      try {
        await authenticateRequest(request, serverContext as NodeServerContext, endResponse);
      } catch (error) {
        endResponse(unexpectedFailure(request, options.logger, error));
      }
    },
  };

  async function authenticateRequest(request: Request, serverContext: NodeServerContext, endResponse: (response: Response) => void): Promise<void> {
      const address = clientAddress(serverContext, options.trustProxy);
      const failures = await failedAuth.get(address);
      if (failures && failures.consumedPoints >= options.limits.failedAuthPerMinute) {
        endResponse(tooManyRequests(request, failures, 'too many requests with unknown API keys from this address'));
        return;
      }
      const key = request.headers.get('x-api-key');
      const actor = key ? await authenticate(options.store, key) : null;
      actors.set(request, actor);
      if (key && !actor) {
        // Counted, not refused: this request still gets its own 401.
        await failedAuth.consume(address).catch(() => undefined);
        return;
      }
      if (actor?.kind === 'apiKey') {
        try {
          await perKey.consume(actor.keyId);
        } catch (limited) {
          if (limited instanceof RateLimiterRes) endResponse(tooManyRequests(request, limited, 'too many requests with this API key'));
          else throw limited;
        }
      }
  }
}
