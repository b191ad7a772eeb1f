// The per-request context: who is asking (from x-api-key) and the domain service.
import type { YogaInitialContext } from 'graphql-yoga';
import type { Actor } from '../auth/actor.ts';
import { authenticate } from '../auth/api-keys.ts';
import type { ConfigService } from '../config/service.ts';
import type { ConfigStore } from '../store/config-store.ts';

export interface Context {
  /** Null when the request has no key, or one that is unknown or revoked. */
  readonly actor: Actor | null;
  readonly service: ConfigService;
}

export function contextFactory(deps: { store: ConfigStore; service: ConfigService }) {
  return async ({ request }: YogaInitialContext): Promise<Context> => ({
    actor: await authenticate(deps.store, request.headers.get('x-api-key')),
    service: deps.service,
  });
}
