// createGateway: the GraphQL endpoint and the REST routes as one fetch handler. Never listens.
import { createLogger, createYoga, type Plugin, type YogaLogger } from 'graphql-yoga';
import { ConfigService } from './config/service.ts';
import type { ChangeEvents } from './events/change-feed.ts';
import { contextFactory } from './graphql/context.ts';
import { maskError } from './graphql/error-masking.ts';
import { schema } from './graphql/schema.ts';
import { useSseEventIds } from './graphql/sse-event-ids.ts';
import { handleRestRequest, type RestDeps } from './rest/org-config.ts';
import type { ConfigStore } from './store/config-store.ts';

export interface GatewayDeps {
  readonly store: ConfigStore;
  /** The change feed that subscriptions follow and that local commits wake. */
  readonly events: ChangeEvents;
  readonly logging?: 'debug' | 'info' | 'warn' | 'error' | false;
}

/** Serves /api/* before yoga sees the request; everything else goes on to GraphQL. */
function useRestRoutes(deps: RestDeps): Plugin {
  return {
    async onRequest({ request, url, endResponse }) {
      const response = await handleRestRequest(request, url, deps);
      if (response) endResponse(response);
    },
    onResponse({ request, response }) {
      // yoga's CORS handling sets Vary: Origin over ours; caches must still key on the encoding.
      if (!new URL(request.url).pathname.startsWith('/api/')) return;
      const vary = response.headers.get('vary');
      if (!vary?.toLowerCase().includes('accept-encoding')) response.headers.set('vary', vary ? `${vary}, accept-encoding` : 'accept-encoding');
    },
  };
}

export function createGateway({ store, events, logging = 'info' }: GatewayDeps) {
  const service = new ConfigService(store, events);
  const logger: YogaLogger = createLogger(logging === false ? 'silent' : logging);
  return createYoga({
    schema,
    context: contextFactory({ store, service }),
    maskedErrors: { maskError },
    logging: logger,
    plugins: [useRestRoutes({ store, service, logError: (error) => logger.error(error) }), useSseEventIds()],
    graphiql: {
      title: 'Org config gateway',
      headers: JSON.stringify({ 'x-api-key': '<your API key>' }),
    },
  });
}

export type Gateway = ReturnType<typeof createGateway>;
