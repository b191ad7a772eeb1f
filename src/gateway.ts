// createGateway: the GraphQL endpoint and the REST routes as one fetch handler. Never listens.

import { useGraphQlJit } from '@envelop/graphql-jit';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { type DocumentNode, Kind, OperationTypeNode } from 'graphql';
import { createYoga, type Plugin, useErrorHandler, useReadinessCheck } from 'graphql-yoga';
import { KeyUseRecorder } from './auth/key-use.ts';
import { ConfigService } from './config/service.ts';
import type { ChangeEvents } from './events/change-feed.ts';
import { useGraphQLLimits } from './graphql/armor.ts';
import { type Context, contextFactory } from './graphql/context.ts';
import { logUnexpectedErrors, maskError } from './graphql/error-masking.ts';
import { graphiqlOptions } from './graphql/graphiql.ts';
import { ReadPlans } from './graphql/read-plans.ts';
import { useRequestErrors, withCode } from './graphql/request-errors.ts';
import { schema } from './graphql/schema.ts';
import { SharedSubscriptionEvents } from './graphql/shared-events.ts';
import { useSseEventIds } from './graphql/sse-event-ids.ts';
import { RequestGuard, type SharedRateLimits, useApiKeyAuth } from './http/api-key-auth.ts';
import { useBodyLimit } from './http/body-limit.ts';
import { requestIdOf, useRequestLog } from './http/request-log.ts';
import { pathOf } from './http/request-path.ts';
import { StreamCaps, type StreamLimits, useStreamCaps } from './http/stream-caps.ts';
import { createLogger, type Logger, yogaLogger } from './logging.ts';
import { bodyLimitBytes } from './rest/limits.ts';
import { handleRestRequest, type RestDeps } from './rest/org-config.ts';
import {
  defaultPerformance,
  defaultRateLimits,
  type PerformanceSwitches,
  type RateLimits,
} from './settings.ts';
import { CachedConfigStore } from './store/cached-store.ts';
import type { ConfigStore } from './store/config-store.ts';
import { strictPolicy } from './webhooks/address-policy.ts';
import { WebhookService, type WebhookServiceOptions } from './webhooks/service.ts';
import { webhookStoreOf } from './webhooks/store-of.ts';
import { type SnapshotSettings, snapshotAnswerer, useWidgetSnapshot } from './widget/snapshot.ts';

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
  /** Streams one client address, and one secret key, may hold at once (http/stream-caps.ts). */
  readonly streamLimits?: StreamLimits;
  /** Count the rate limits in Redis, across replicas, rather than in this process. */
  readonly sharedRateLimits?: SharedRateLimits;
  /** This process is one of the cluster's workers (WORKERS > 1): the primary counts the rate limits for all of them. */
  readonly rateLimitsAcrossWorkers?: boolean;
  readonly trustProxy?: boolean;
  /** Optimisations to leave out, to measure what each gives (`npm run bench`); see settings.ts. */
  readonly performance?: PerformanceSwitches;
  /** Cache-Control of the widget snapshot (widget/snapshot.ts). */
  readonly widgetSnapshot?: SnapshotSettings;
  /** How webhook endpoints are checked and redelivered to (default: https to public addresses only). */
  readonly webhooks?: WebhookServiceOptions;
  /** The time (ms since the epoch) opening hours are answered for; tests set it. Default Date.now. */
  readonly clock?: () => number;
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

/** Live events written by the doors straight to their clients (graphql/shared-events.ts), which needs the shared results. */
export function directFanOut(performance: PerformanceSwitches): boolean {
  return (
    !performance.disabled.has('fanout-shared-serialisation') &&
    !performance.disabled.has('fanout-direct-writes')
  );
}

function cachedStore(store: ConfigStore, events: ChangeEvents): CachedConfigStore {
  const cached = new CachedConfigStore(store);
  events.watchAll((revision) => cached.applyRevision(revision));
  events.watchKeyChanges(() => cached.forgetKeys());
  return cached;
}

export function createGateway(deps: GatewayDeps) {
  const { events, logger = createLogger('silent') } = deps;
  const performance = deps.performance ?? defaultPerformance;
  const cache = performance.disabled.has('config-cache') ? null : cachedStore(deps.store, events);
  const store = cache ?? deps.store;
  const clock = deps.clock ?? Date.now;
  const service = new ConfigService(store, events, clock);
  const webhookStore = webhookStoreOf(deps.store);
  const webhooks = webhookStore
    ? new WebhookService(webhookStore, service, store, deps.webhooks ?? { policy: strictPolicy })
    : null;
  // Learnt from yoga's successful reads, for the GraphQL read fast path (http/fast-graphql-read.ts).
  const readPlans =
    cache && !performance.disabled.has('graphql-fast-path')
      ? new ReadPlans({ updates: !performance.disabled.has('graphql-update-fast-path') })
      : null;
  const sharedEvents = performance.disabled.has('fanout-shared-serialisation')
    ? null
    : new SharedSubscriptionEvents(events);
  // When keys were last used, written in batches (close() writes the last one).
  const keyUse = new KeyUseRecorder(deps.store);
  const guard = new RequestGuard({
    keyUse,
    store,
    limits: deps.rateLimits ?? defaultRateLimits,
    trustProxy: deps.trustProxy ?? false,
    shared: deps.sharedRateLimits,
    acrossWorkers: deps.rateLimitsAcrossWorkers,
  });
  const yoga = createYoga<object, Context>({
    schema,
    context: contextFactory({ store, service, webhooks }),
    maskedErrors: { maskError },
    logging: yogaLogger(logger),
    batching: false,
    // useBodyLimit below refuses bodies over our limit (1 MiB) before anything reads them, and Node's
    // parser refuses malformed Content-Length, so yoga's own check (25 MB) could never refuse
    // anything: it only wrapped every GraphQL body in a counting stream.
    maxRequestBodySize: performance.disabled.has('single-body-limit') ? undefined : false,
    parserAndValidationCache: !performance.disabled.has('parse-cache'),
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
        reuseRepresentations: !performance.disabled.has('preserialized-json'),
        clock,
      }),
      useWidgetSnapshot(snapshotAnswerer(store, deps.widgetSnapshot)),
      // A browser request that is not preflighted (no custom header, no JSON body) is refused.
      withCode('BAD_REQUEST', useCSRFPrevention({ requestHeaders: ['x-api-key', 'x-graphql-yoga-csrf'] })),
      ...useGraphQLLimits(),
      ...(deps.introspection === false ? [useDisableIntrospection()] : []),
      // No key, or variables that do not coerce: one coded request error, before anything runs.
      useRequestErrors(),
      // Compiles each query and mutation once into a function (graphql-jit): it measured +8% to
      // +27% on GraphQL reads (bench/results). Subscriptions keep graphql-js, whose event stream the SSE and WebSocket doors use.
      ...(performance.disabled.has('graphql-jit')
        ? []
        : [useGraphQlJit({}, { enableIf: ({ document }) => !isSubscription(document) }) as Plugin]),
      // One change executed and serialised once per distinct selection, not per subscriber, and its
      // live events written by the SSE and WebSocket doors themselves (graphql/shared-events.ts).
      // Every subscription, over SSE or WebSocket, counted against its address and key (before the
      // shared events wrap it).
      useStreamCaps(new StreamCaps(deps.streamLimits), (request) => guard.clientAddress(request)),
      ...(sharedEvents ? [sharedEvents.plugin()] : []),
      useSseEventIds({
        shareFrames: !performance.disabled.has('fanout-shared-serialisation'),
        nodeStream: !performance.disabled.has('sse-node-stream'),
        directWrites: directFanOut(performance),
      }),
      useUnexpectedErrorLog(logger),
      ...(readPlans ? [readPlans.plugin()] : []),
    ],
    ...graphiqlOptions(deps.graphiql !== false),
  });
  // The WebSocket door (graphql/websocket.ts) and the fast paths (http/fast-*.ts) apply the same guard
  // and log to the same place; they answer from the same cache and write through the same service.
  return Object.assign(yoga, {
    guard,
    logger,
    cache,
    performance,
    service,
    webhooks,
    readPlans,
    sharedEvents,
    keyUse,
  });
}

export type Gateway = ReturnType<typeof createGateway>;
