// The per-request context: who is asking (the edge's Actor, from yoga's server context) and the domain service.
import type { YogaInitialContext } from 'graphql-yoga';
import type { Actor } from '../auth/actor.ts';
import type { ConfigService } from '../config/service.ts';
import type { WebhookService } from '../webhooks/service.ts';

export interface Context {
  /** Null when the request has no key, or one that is unknown or revoked. */
  readonly actor: Actor | null;
  readonly service: ConfigService;
  /** Webhook endpoints; null where the store keeps none. */
  readonly webhooks?: WebhookService | null;
  /** The HTTP request; absent for operations over WebSocket. */
  readonly request?: Request;
  /** The edge's id of the request, for logs; absent over WebSocket. */
  readonly requestId?: string;
}

/** What the edge hands yoga with each request (HTTP), or the WebSocket door with each operation. */
export interface ServerContext {
  readonly actor: Actor | null;
  readonly requestId?: string;
  /** The credential came in the URL (edge/edge.ts, EdgeRequest.credentialsFromUrl). */
  readonly credentialsFromUrl?: boolean;
}

export function contextFactory(deps: { service: ConfigService; webhooks?: WebhookService | null }) {
  return (initial: Partial<YogaInitialContext> & Partial<ServerContext>): Context => ({
    actor: initial.actor ?? null,
    service: deps.service,
    webhooks: deps.webhooks ?? null,
    request: initial.request,
    requestId: initial.requestId,
  });
}
