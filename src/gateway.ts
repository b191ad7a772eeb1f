// createGateway: the GraphQL endpoint and the REST routes as one fetch handler. Never listens.

import { useGraphQlJit } from '@envelop/graphql-jit';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { type DocumentNode, Kind, OperationTypeNode } from 'graphql';
import { createYoga, type Plugin, useErrorHandler, useReadinessCheck } from 'graphql-yoga';
import { ConfigService } from './config/service.ts';
import type { ChangeEvents } from './events/change-feed.ts';
import { useGraphQLLimits } from './graphql/armor.ts';
import { type Context, contextFactory } from './graphql/context.ts';
import { logUnexpectedErrors, maskError } from './graphql/error-masking.ts';
import { ReadPlans } from './graphql/read-plans.ts';
import { schema } from './graphql/schema.ts';
import { SharedSubscriptionEvents } from './graphql/shared-events.ts';
import { useSseEventIds } from './graphql/sse-event-ids.ts';
import { RequestGuard, type SharedRateLimits, useApiKeyAuth } from './http/api-key-auth.ts';
import { useBodyLimit } from './http/body-limit.ts';
import { requestIdOf, useRequestLog } from './http/request-log.ts';
import { pathOf } from './http/request-path.ts';
import { createLogger, type Logger, yogaLogger } from './logging.ts';
import { bodyLimitBytes } from './rest/limits.ts';
import { handleRestRequest, type RestDeps } from './rest/org-config.ts';
import { defaultRateLimits, type RateLimits } from './settings.ts';
import { CachedConfigStore } from './store/cached-store.ts';
import type { ConfigStore } from './store/config-store.ts';

export interface GatewayDeps {
  readonly store: ConfigStore;
  /** The change feed that subscriptions follow and that local commits wake. */
  readonly events: ChangeEvents;
  readonly logger?: Logger;
  /** GraphiQL at /graphql for browsers (default on; main turns it off in production). */
  readonly graphiql?: boolean;
  /** Schema introspection (default on; main turns it off in production). */
  readonly introspection?: boolean;
  readonly rateLimits?: RateLimits;
  /** Count the rate limits in Redis, across replicas, rather than in this process. */
  readonly sharedRateLimits?: SharedRateLimits;
  /** This process is one of the cluster's workers (WORKERS > 1): the primary counts the rate limits for all of them. */
  readonly rateLimitsAcrossWorkers?: boolean;
  readonly trustProxy?: boolean;
}

/** Serves /api/* before yoga sees the request; everything else goes on to GraphQL. */
function useRestRoutes(deps: RestDeps): Plugin {
  return {
    onRequest({ request, url, endResponse }) {
      // Synchronous for everything else (GraphQL): no promise for yoga to wait on.
      if (!url.pathname.startsWith('/api/')) return;
      return handleRestRequest(request, url, deps).then((response) => {
        if (response) endResponse(response);
      });
    },
    onResponse({ request, response }) {
      // yoga's CORS handling sets Vary: Origin over ours; caches must still key on the encoding.
      if (!pathOf(request).startsWith('/api/')) return;
      const vary = response.headers.get('vary');
      if (!vary?.toLowerCase().includes('accept-encoding'))
        response.headers.set('vary', vary ? `${vary}, accept-encoding` : 'accept-encoding');
    },
  };
}

function isSubscription(document: DocumentNode): boolean {
  return document.definitions.some(
    (definition) =>
      definition.kind === Kind.OPERATION_DEFINITION &&
      definition.operation === OperationTypeNode.SUBSCRIPTION,
  );
}

/** Unexpected failures of GraphQL operations are logged with their cause; the client sees them masked. */
function useUnexpectedErrorLog(logger: Logger): Plugin<Context> {
  return useErrorHandler<Context>(({ errors, context }) =>
    logUnexpectedErrors(logger, requestIdOf((context as Partial<Context>).request), errors),
  ) as Plugin<Context>;
}

function cachedStore(store: ConfigStore, events: ChangeEvents): CachedConfigStore {
  const cached = new CachedConfigStore(store);
  events.watchAll((revision) => cached.applyRevision(revision));
  events.watchKeyChanges(() => cached.forgetKeys());
  return cached;
}

export function createGateway(deps: GatewayDeps) {
  const { events, logger = createLogger('silent') } = deps;
  const cache = cachedStore(deps.store, events);
  const store = cache;
  const service = new ConfigService(store, events);
  // Learnt from yoga's successful reads, for the GraphQL read fast path (http/fast-graphql-read.ts).
  const readPlans = new ReadPlans();
  const sharedEvents = new SharedSubscriptionEvents(events);
  const guard = new RequestGuard({
    store,
    limits: deps.rateLimits ?? defaultRateLimits,
    trustProxy: deps.trustProxy ?? false,
    shared: deps.sharedRateLimits,
    acrossWorkers: deps.rateLimitsAcrossWorkers,
  });
  const yoga = createYoga<object, Context>({
    schema,
    context: contextFactory({ store, service }),
    maskedErrors: { maskError },
    logging: yogaLogger(logger),
    batching: false,
    // useBodyLimit below refuses bodies over our limit (1 MiB) before anything reads them, and Node's
    // parser refuses malformed Content-Length, so yoga's own check (25 MB) could never refuse
    // anything: it only wrapped every GraphQL body in a counting stream.
    maxRequestBodySize: false,
    plugins: [
      // Ready when the database answers, is migrated, and other replicas' commits reach this one.
      useReadinessCheck({
        endpoint: '/ready',
        check: async () => events.isConnected() && (await store.isReady()),
      }),
      useRequestLog(logger),
      useBodyLimit(bodyLimitBytes, logger),
      useApiKeyAuth(guard, logger),
      useRestRoutes({
        service,
        logError: (error) => logger.error({ err: error }, 'unexpected error'),
      }),
      // A browser request that is not preflighted (no custom header, no JSON body) is refused.
      useCSRFPrevention({ requestHeaders: ['x-api-key', 'x-graphql-yoga-csrf'] }),
      ...useGraphQLLimits(),
      ...(deps.introspection === false ? [useDisableIntrospection()] : []),
      // Compiles each query and mutation once into a function (graphql-jit): it measured +8% to
      // +27% on GraphQL reads (bench/results). Subscriptions keep graphql-js, whose event stream the SSE and WebSocket doors use.
      useGraphQlJit({}, { enableIf: ({ document }) => !isSubscription(document) }) as Plugin,
      // One change executed and serialised once per distinct selection, not per subscriber, and its
      // live events written by the SSE and WebSocket doors themselves (graphql/shared-events.ts).
      sharedEvents.plugin(),
      useSseEventIds(),
      useUnexpectedErrorLog(logger),
      readPlans.plugin(),
    ],
    graphiql:
      deps.graphiql === false
        ? false
        : { title: 'Org config gateway', headers: JSON.stringify({ 'x-api-key': '<your API key>' }) },
  });
  // The WebSocket door (graphql/websocket.ts) and the fast paths (http/fast-*.ts) apply the same guard
  // and log to the same place; they answer from the same cache and write through the same service.
  return Object.assign(yoga, { guard, logger, cache, service, readPlans, sharedEvents });
}

export type Gateway = ReturnType<typeof createGateway>;
