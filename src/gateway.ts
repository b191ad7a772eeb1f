// createGateway: the edge and the doors behind it, as a typed object. Never listens.
import type { RequestListener } from 'node:http';
import { KeyUseRecorder } from './auth/key-use.ts';
import { UnauthenticatedError } from './config/errors.ts';
import { ConfigService } from './config/service.ts';
import { Edge } from './edge/edge.ts';
import { RequestGuard, type SharedRateLimits } from './edge/guard.ts';
import { KeyLifetimes } from './edge/key-lifetimes.ts';
import { Metrics } from './edge/metrics.ts';
import { metricsAnswerer } from './edge/metrics-door.ts';
import { StreamCaps, type StreamLimits } from './edge/stream-caps.ts';
import type { ChangeEvents } from './events/change-feed.ts';
import { planAnswerer } from './graphql/plan-answerer.ts';
import { ReadPlans } from './graphql/read-plans.ts';
import { SharedSubscriptionEvents } from './graphql/shared-events.ts';
import { serveGraphQLOverWebSocket, type WebSocketHandler } from './graphql/websocket.ts';
import { createYogaDoor } from './graphql/yoga-door.ts';
import { createLogger, type Logger } from './logging.ts';
import { bodyLimitBytes } from './rest/limits.ts';
import { restAnswerer } from './rest/org-config.ts';
import { defaultRateLimits, type RateLimits } from './settings.ts';
import { CachedConfigStore } from './store/cached-store.ts';
import type { ConfigStore } from './store/config-store.ts';
import { strictPolicy } from './webhooks/address-policy.ts';
import { WebhookService, type WebhookServiceOptions } from './webhooks/service.ts';
import { webhookStoreOf } from './webhooks/store-of.ts';
import { previewAnswerer } from './widget/preview.ts';
import { type SnapshotSettings, snapshotAnswerer, widgetSnapshotAnswerer } from './widget/snapshot.ts';

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
  /** Streams one client address, and one secret key, may hold at once (edge/stream-caps.ts). */
  readonly streamLimits?: StreamLimits;
  /** Count the rate limits in Redis, across replicas, rather than in this process. */
  readonly sharedRateLimits?: SharedRateLimits;
  /** This process is one of the cluster's workers (WORKERS > 1): the primary counts the rate limits for all of them. */
  readonly rateLimitsAcrossWorkers?: boolean;
  readonly trustProxy?: boolean;
  /** The bearer token GET /metrics asks for; without one, there is no /metrics. */
  readonly metricsToken?: string | null;
  /** Cache-Control of the widget snapshot (widget/snapshot.ts). */
  readonly widgetSnapshot?: SnapshotSettings;
  /** How webhook endpoints are checked and redelivered to (default: https to public addresses only). */
  readonly webhooks?: WebhookServiceOptions;
  /**
   * How often the keys of open streams are checked, ms (default 30 s): the longest a stream of a key
   * revoked where no signal reaches this gateway (SQLite, the CLI in another process) lives on,
   * beside the key cache's 30 s.
   */
  readonly streamKeyRecheckMs?: number;
  /** The time (ms since the epoch) opening hours are answered for; tests set it. Default Date.now. */
  readonly clock?: () => number;
}

/** What a gateway holds; main.ts serves `listener` and attaches `webSockets` to the same server. */
export interface Gateway {
  /** The node:http request listener: the edge, then the doors. */
  readonly listener: RequestListener;
  /** Serves GraphQL over WebSocket on a server, through the same edge checks. */
  readonly webSockets: WebSocketHandler;
  readonly service: ConfigService;
  /** The read cache every door answers from, kept current by the change feed. */
  readonly cache: CachedConfigStore;
  /** This gateway's metrics (edge/metrics.ts), which GET /metrics serves. */
  readonly metrics: Metrics;
  /** The fan-out of live events, for what it counts. */
  readonly sharedEvents: SharedSubscriptionEvents;
  /** The operations learnt from yoga that plans answer (graphql/plan-answerer.ts). */
  readonly readPlans: ReadPlans;
  /** Webhook endpoints; null where the store keeps none. */
  readonly webhooks: WebhookService | null;
  /** When keys were last used, written in batches; main closes it (writing the last batch) on shutdown. */
  readonly keyUse: KeyUseRecorder;
  /** The streams held per address and per key (the edge's stream step). */
  readonly streams: StreamCaps;
  /** Stops watching the change feed; the caller closes its store and feed. */
  close(): Promise<void>;
}

export function createGateway(deps: GatewayDeps): Gateway {
  const { events, logger = createLogger('silent') } = deps;
  const cache = new CachedConfigStore(deps.store);
  const metrics = new Metrics();
  const unwatch = [
    events.watchAll((revision) => {
      cache.applyRevision(revision);
      // Commit to delivery by this process's change feed (the clocks of replicas may differ a little).
      metrics.delivered((Date.now() - revision.changedAt.getTime()) / 1000);
    }),
    events.watchKeyChanges(() => cache.forgetKeys()),
  ];
  const clock = deps.clock ?? Date.now;
  const service = new ConfigService(cache, events, clock);
  metrics.counter({
    name: 'gateway_cache_lookups_total',
    help: 'Lookups of configurations and API keys, answered from memory (hit) or from the database (miss).',
    labelNames: ['kind', 'result'],
    collect() {
      const { configHits, configMisses, keyHits, keyMisses } = cache.counts;
      this.reset();
      this.inc({ kind: 'config', result: 'hit' }, configHits);
      this.inc({ kind: 'config', result: 'miss' }, configMisses);
      this.inc({ kind: 'key', result: 'hit' }, keyHits);
      this.inc({ kind: 'key', result: 'miss' }, keyMisses);
    },
  });
  // Learnt from yoga's successful operations, for the plans' answers (graphql/plan-answerer.ts).
  const readPlans = new ReadPlans();
  const sharedEvents = new SharedSubscriptionEvents(events);
  const webhookStore = webhookStoreOf(deps.store);
  const webhooks = webhookStore
    ? new WebhookService(webhookStore, service, cache, deps.webhooks ?? { policy: strictPolicy })
    : null;
  // When keys were last used, written in batches (close() writes the last one).
  const keyUse = new KeyUseRecorder(deps.store);
  const guard = new RequestGuard({
    keyUse,
    store: cache,
    limits: deps.rateLimits ?? defaultRateLimits,
    trustProxy: deps.trustProxy ?? false,
    shared: deps.sharedRateLimits,
    acrossWorkers: deps.rateLimitsAcrossWorkers,
  });
  const streams = new StreamCaps(deps.streamLimits);
  const keyLifetimes = new KeyLifetimes(
    (actor) =>
      service.assertStillValid(actor).then(
        () => true,
        (error: unknown) => !(error instanceof UnauthenticatedError),
      ),
    clock,
    deps.streamKeyRecheckMs,
  );
  // After the cache has forgotten its keys (the listener above): the check reads them anew.
  unwatch.push(events.watchKeyChanges(() => void keyLifetimes.recheck()));
  const yoga = createYogaDoor({
    service,
    webhooks,
    // The edge's stream step, around every subscription yoga starts (SSE and WebSocket alike).
    admitStream: (req, actor, end) => edge.admitStream(req, actor, end),
    logger,
    metrics,
    readPlans,
    sharedEvents,
    ready: async () => events.isConnected() && (await cache.isReady()),
    graphiql: deps.graphiql,
    introspection: deps.introspection,
  });
  const edge = new Edge({
    guard,
    logger,
    metrics,
    bodyLimitBytes,
    streams,
    keyLifetimes,
    allowedOrigins: (orgId) => {
      const config = cache.peekConfig(orgId);
      if (config) return config.settings.website.allowedOrigins;
      return cache.getConfig(orgId).then((found) => found?.settings.website.allowedOrigins);
    },
    answerers: [
      metricsAnswerer(metrics, deps.metricsToken),
      widgetSnapshotAnswerer(snapshotAnswerer(cache, deps.widgetSnapshot)),
      previewAnswerer(),
      restAnswerer({
        service,
        logError: (error, requestId) => logger.error({ err: error, requestId }, 'unexpected error'),
        clock,
      }),
      planAnswerer({ cache, service, readPlans, logger }),
      yoga.answerer,
    ],
  });
  return {
    listener: edge.listener,
    webSockets: (server) =>
      serveGraphQLOverWebSocket(server, { edge, yoga, metrics, logger, bodyLimitBytes }),
    service,
    cache,
    metrics,
    sharedEvents,
    readPlans,
    webhooks,
    keyUse,
    streams,
    async close() {
      for (const stop of unwatch) stop?.();
      await keyUse.close();
    },
  };
}
