// The GraphQL door for everything plans do not answer: yoga (operations not planned yet, SSE
// subscriptions, GraphiQL, /health and /ready). Behind the edge, which has authenticated, limited,
// and read the body of each request: yoga gets the Actor through its server context, and has no
// auth, log, body-limit or CORS plugin of its own.
// First: graphql-jit's memoized helpers are bounded before it loads.
import './jit-memo.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { sendNodeResponse } from '@whatwg-node/server';
import { type DocumentNode, getOperationAST, Kind, OperationTypeNode } from 'graphql';
import { createYoga, type Plugin, useErrorHandler, useReadinessCheck } from 'graphql-yoga';
import type { ConfigService } from '../config/service.ts';
import type { Answerer, WrittenAnswer } from '../edge/edge.ts';
import type { Metrics, OperationType } from '../edge/metrics.ts';
import { type AdmitStream, useStreamCaps } from '../edge/stream-caps.ts';
import { type Logger, yogaLogger } from '../logging.ts';
import type { WebhookService } from '../webhooks/service.ts';
import { useGraphQLLimits } from './armor.ts';
import { type Context, contextFactory, type ServerContext } from './context.ts';
import { boundedDocumentCaches } from './document-cache.ts';
import { logUnexpectedErrors, maskError } from './error-masking.ts';
import { graphiqlOptions } from './graphiql.ts';
import type { ReadPlans } from './read-plans.ts';
import { useRequestErrors, withCode } from './request-errors.ts';
import { schema } from './schema.ts';
import type { SharedSubscriptionEvents } from './shared-events.ts';
import { useSseEventIds } from './sse-event-ids.ts';

export interface YogaDoorDeps {
  readonly service: ConfigService;
  /** Webhook endpoints; null where the store keeps none. */
  readonly webhooks: WebhookService | null;
  /** The edge's stream step (caps per address and key), taken by every subscription. */
  readonly admitStream: AdmitStream;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly readPlans: ReadPlans;
  readonly sharedEvents: SharedSubscriptionEvents;
  /** Whether the store answers and the change feed is connected (/ready). */
  readonly ready: () => Promise<boolean>;
  readonly graphiql?: boolean;
  readonly introspection?: boolean;
}

function isSubscription(document: DocumentNode): boolean {
  return document.definitions.some(
    (definition) =>
      definition.kind === Kind.OPERATION_DEFINITION &&
      definition.operation === OperationTypeNode.SUBSCRIPTION,
  );
}

/** The type of the operation yoga executes for each request, for the edge's metrics. */
const operationTypes = new WeakMap<IncomingMessage, OperationType>();

function useOperationType(): Plugin {
  const record = ({
    args,
  }: {
    args: { document: DocumentNode; operationName?: string | null; contextValue: unknown };
  }) => {
    const req = (args.contextValue as { req?: IncomingMessage }).req;
    const operation = getOperationAST(args.document, args.operationName)?.operation;
    if (req && operation) operationTypes.set(req, operation);
  };
  return { onExecute: record, onSubscribe: record };
}

/** A request-parse check skipped for requests whose credential came in the URL (the edge says so). */
function unlessCredentialsInUrl(plugin: Plugin): Plugin {
  const { onRequestParse } = plugin;
  if (!onRequestParse) return plugin;
  return {
    ...plugin,
    onRequestParse(payload) {
      if ((payload.serverContext as Partial<ServerContext>).credentialsFromUrl) return;
      return onRequestParse.call(plugin, payload);
    },
  };
}

export function createYogaDoor(deps: YogaDoorDeps) {
  const { logger } = deps;
  // Parsed documents and their compiled forms, bounded in bytes (yoga's default holds 1,024 of any size).
  const documentCaches = boundedDocumentCaches();
  const yoga = createYoga<ServerContext & { req: IncomingMessage; res: ServerResponse }, Context>({
    schema,
    parserAndValidationCache: documentCaches.parserAndValidationCache,
    context: contextFactory(deps),
    maskedErrors: { maskError },
    logging: yogaLogger(logger),
    batching: false,
    // The edge refuses bodies over our limit (1 MiB) and hands yoga the body it read: yoga's own
    // check (25 MB) could never refuse anything.
    maxRequestBodySize: false,
    cors: false,
    plugins: [
      // Ready when the database answers, is migrated, and other replicas' commits reach this one.
      useReadinessCheck({ endpoint: '/ready', check: deps.ready }),
      // A browser request that is not preflighted (no custom header, no JSON body) is refused, unless
      // its credential is in its URL (an EventSource's ?key= or ?ticket=): no browser adds that on
      // its own, so another site cannot borrow it.
      unlessCredentialsInUrl(
        withCode('BAD_REQUEST', useCSRFPrevention({ requestHeaders: ['x-api-key', 'x-graphql-yoga-csrf'] })),
      ),
      ...useGraphQLLimits(),
      documentCaches.plugin,
      ...(deps.introspection === false ? [useDisableIntrospection()] : []),
      // No key, or variables that do not coerce: one coded request error, before anything runs.
      useRequestErrors(),
      // Compiles each query and mutation once into a function (graphql-jit): it measured +8% to
      // +27% on GraphQL reads (bench/results). Subscriptions keep graphql-js, whose event stream the SSE and WebSocket doors use.
      useGraphQlJit(
        {},
        { enableIf: ({ document }) => !isSubscription(document), cache: documentCaches.jitCache },
      ) as Plugin,
      // Every subscription, over SSE or WebSocket, through the edge's stream caps (before the shared
      // events wrap it).
      useStreamCaps(deps.admitStream),
      // One change executed and serialised once per distinct selection, not per subscriber, and its
      // live events written by the SSE and WebSocket doors themselves (graphql/shared-events.ts).
      deps.sharedEvents.plugin(),
      useSseEventIds(deps.metrics.subscribers),
      // Unexpected failures of operations are logged with their cause; the client sees them masked.
      useErrorHandler<Context>(({ errors, context }) =>
        logUnexpectedErrors(logger, (context as Partial<Context>).requestId ?? '-', errors),
      ) as Plugin,
      useOperationType(),
      deps.readPlans.plugin(),
    ],
    ...graphiqlOptions(deps.graphiql !== false),
  });

  /** Answers every request it gets: the last door. Yoga writes its own answer, with the edge's headers over its own. */
  const answerer: Answerer = async (request) => {
    const { req, res } = request;
    // The server adapter takes a body already read from `body` (as for Express's parsers).
    if (request.body) (req as IncomingMessage & { body?: Buffer }).body = request.body;
    const response = await yoga.handleNodeRequestAndResponse(req, res, {
      req,
      res,
      actor: request.actor,
      requestId: request.id,
      credentialsFromUrl: request.credentialsFromUrl,
    });
    request.operation = operationTypes.get(req) ?? 'none';
    if (response.headers.get('content-type')?.startsWith('text/event-stream')) request.door = 'sse';
    const answer: WrittenAnswer = {
      status: response.status,
      write(headers) {
        for (const name in headers) response.headers.set(name, String(headers[name]));
        void sendNodeResponse(response, res, req, false);
      },
    };
    return answer;
  };

  return {
    answerer,
    /** For the WebSocket door: yoga's envelop (parse, validate, execute, subscribe, context), with a server context. */
    getEnveloped: yoga.getEnveloped,
    graphqlEndpoint: yoga.graphqlEndpoint,
  };
}

export type YogaDoor = ReturnType<typeof createYogaDoor>;
