// GraphQL over WebSocket (graphql-ws) on the gateway's HTTP server, through the same yoga envelop
// and the same edge checks as HTTP (edge/edge.ts): a key is needed to connect, and every operation
// is rate limited.
import type { IncomingMessage, Server } from 'node:http';
import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  getOperationAST,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocket, WebSocketServer } from 'ws';
import type { Actor } from '../auth/actor.ts';
import type { Edge } from '../edge/edge.ts';
import type { Metrics } from '../edge/metrics.ts';
import type { Logger } from '../logging.ts';
import { documentTooLarge } from './armor.ts';
import { attachDirectSink } from './shared-events.ts';
import type { YogaDoor } from './yoga-door.ts';

interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

interface ConnectionExtra {
  request: IncomingMessage;
  actor?: Actor;
  /** Its subscriptions still live, for the metrics. */
  live?: Set<string>;
}

export interface WebSocketDeps {
  readonly edge: Edge;
  readonly yoga: YogaDoor;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
}

/** The WebSocket handler of a gateway: attach it to an HTTP server. */
export type WebSocketHandler = (server: Server) => { close: () => Promise<void> };

/** Bytes a socket may have waiting to be sent before the fan-out leaves its events to graphql-ws, which waits for each send. */
const directWriteBacklogBytes = 16 * 1024;

/** The JSON of each shared result, kept while the result lives: subscribers sharing a result share its text. */
const payloads = new WeakMap<ExecutionResult, string>();

function payloadOf(result: ExecutionResult): string {
  let payload = payloads.get(result);
  if (payload === undefined) payloads.set(result, (payload = JSON.stringify(result)));
  return payload;
}

/**
 * Lets the fan-out write this subscription's live events itself (shared-events.ts), as graphql-ws
 * would: the same next message, with the shared result's JSON in it, serialised once for all.
 */
function writeEventsDirectly(socket: WebSocket, id: string, context: object): void {
  const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  attachDirectSink(context, (result) => {
    if (socket.readyState !== WebSocket.OPEN || socket.bufferedAmount > directWriteBacklogBytes) return false;
    socket.send(`${prefix}${payloadOf(result)}}`);
    return true;
  });
}

/** The type of the operation of these arguments, for the metrics. */
function operationOf(args: ExecutionArgs): 'query' | 'mutation' | 'subscription' | 'none' {
  return getOperationAST(args.document, args.operationName)?.operation ?? 'none';
}

/** Accepts graphql-ws connections on the GraphQL path; the API key comes in connection_init's payload. */
export function serveGraphQLOverWebSocket(
  server: Server,
  deps: WebSocketDeps,
): { close: () => Promise<void> } {
  const { edge, yoga, metrics, logger } = deps;
  // Messages are GraphQL documents: the HTTP body limit applies to them too.
  const sockets = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    maxPayload: deps.bodyLimitBytes,
  });
  const ended = (extra: ConnectionExtra, id: string) => {
    if (extra.live?.delete(id)) metrics.subscribers.websocket -= 1;
  };
  const graphqlWs = useServer(
    {
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args) as never,
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args) as never,
      // A connection without a valid key is closed (4403), as is a widget key's from an origin its
      // organisation does not allow (4403 ORIGIN_NOT_ALLOWED); unknown keys count against the
      // address, and an address over its limit is closed with 4429 (Too Many Requests).
      onConnect: async (ctx) => {
        const extra = ctx.extra as unknown as ConnectionExtra;
        const admitted = await edge.admitConnection(extra.request, ctx.connectionParams?.['x-api-key']);
        if ('closeCode' in admitted) {
          // graphql-ws closes with 4403 Forbidden itself when told false; another reason is ours to give.
          if (admitted.closeCode !== 4403 || admitted.reason !== 'Forbidden')
            ctx.extra.socket.close(admitted.closeCode, admitted.reason);
          return false;
        }
        extra.actor = admitted.actor;
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        const actor = (ctx.extra as unknown as ConnectionExtra).actor ?? null;
        const throttled = await edge.operationThrottled(actor);
        if (throttled) return [new GraphQLError(throttled, { extensions: { code: 'RATE_LIMITED' } })];
        const tooLarge = documentTooLarge(payload.query);
        if (tooLarge) return [tooLarge];
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          actor,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
        });
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [
            error instanceof GraphQLError
              ? error
              : new GraphQLError('the document cannot be parsed', {
                  extensions: { code: 'GRAPHQL_PARSE_FAILED' },
                }),
          ];
        }
        const args = {
          schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        return errors.length > 0 ? errors : args;
      },
      onOperation: (ctx, id, _payload, args, result) => {
        const extra = ctx.extra as unknown as ConnectionExtra;
        metrics.answered('websocket', false, 200, operationOf(args), 0);
        if (Symbol.asyncIterator in Object(result)) {
          (extra.live ??= new Set()).add(id);
          metrics.subscribers.websocket += 1;
          writeEventsDirectly(ctx.extra.socket, id, args.contextValue as object);
        }
      },
      onComplete: (ctx, id) => ended(ctx.extra as unknown as ConnectionExtra, id),
      onClose: (ctx) => {
        const extra = ctx.extra as unknown as ConnectionExtra;
        for (const id of extra.live ?? []) ended(extra, id);
      },
      onError: (_ctx, _id, _payload, errors) => {
        for (const error of errors)
          if (!error.extensions?.code) logger.warn({ err: error }, 'WebSocket operation failed');
      },
    },
    sockets,
  );
  return {
    async close() {
      await graphqlWs.dispose();
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
    },
  };
}
