// The per-request context: who is asking (from x-api-key) and the domain service.
import type { YogaInitialContext } from 'graphql-yoga';
import type { Actor } from '../auth/actor.ts';
import { authenticate } from '../auth/api-keys.ts';
import type { ConfigService } from '../config/service.ts';
import { actorOf } from '../http/api-key-auth.ts';
import type { ConfigStore } from '../store/config-store.ts';
import type { WebhookService } from '../webhooks/service.ts';

export interface Context {
  /** Null when the request has no key, or one that is unknown or revoked. */
  readonly actor: Actor | null;
  readonly service: ConfigService;
  /** Webhook endpoints; null where the store keeps none. */
  readonly webhooks?: WebhookService | null;
  /** The HTTP request; absent for operations over WebSocket. */
  readonly request?: Request;
}

/** Over WebSocket the key travels in the connection_init payload, since browsers cannot set headers there. */
interface WebSocketInitialContext {
  readonly connectionParams?: Readonly<Record<string, unknown>>;
}

export function contextFactory(deps: {
  store: ConfigStore;
  service: ConfigService;
  webhooks?: WebhookService | null;
}) {
  return async (initial: Partial<YogaInitialContext> & WebSocketInitialContext): Promise<Context> => {
    // HTTP requests were authenticated (and rate limited) on their way in; WebSocket operations
    // carry the key of their connection.
    const webSocketKey = initial.connectionParams?.['x-api-key'];
    return {
      actor: initial.connectionParams
        ? await authenticate(deps.store, typeof webSocketKey === 'string' ? webSocketKey : null)
        : (actorOf(initial.request) ?? null),
      service: deps.service,
      webhooks: deps.webhooks ?? null,
      request: initial.request,
    };
  };
}
