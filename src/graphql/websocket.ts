// GraphQL over WebSocket (graphql-ws) on the gateway's HTTP server, through the same yoga pipeline
// and the same guard as HTTP: a key is needed to connect, and every operation is rate limited.
import type { IncomingMessage, Server } from 'node:http';
import { type DocumentNode, type ExecutionArgs, type ExecutionResult, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocket, WebSocketServer } from 'ws';
import type { Actor } from '../auth/actor.ts';
import type { Gateway } from '../gateway.ts';
import { bodyLimitBytes } from '../rest/limits.ts';
import { documentTooLarge } from './armor.ts';
import { attachDirectSink } from './shared-events.ts';

interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

interface ConnectionExtra {
  request: IncomingMessage;
  actor?: Actor;
}

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

/** Accepts graphql-ws connections on the GraphQL path; the API key comes in connection_init's payload. */
export function serveGraphQLOverWebSocket(server: Server, gateway: Gateway): { close: () => Promise<void> } {
  const { guard, logger } = gateway;
  // Messages are GraphQL documents: the HTTP body limit applies to them too.
  const sockets = new WebSocketServer({ server, path: gateway.graphqlEndpoint, maxPayload: bodyLimitBytes });
  const graphqlWs = useServer(
    {
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args) as never,
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args) as never,
      // A connection without a valid key is closed (4403); unknown keys count against the address,
      // and an address over its limit is closed with 4429 (Too Many Requests).
      onConnect: async (ctx) => {
        const extra = ctx.extra as unknown as ConnectionExtra;
        const address = guard.clientAddress(extra.request);
        const throttled = await guard.addressThrottled(address);
        if (throttled) {
          ctx.extra.socket.close(4429, `${throttled.reason}; retry in ${throttled.retryAfterSeconds} s`);
          return false;
        }
        const key = ctx.connectionParams?.['x-api-key'];
        const actor = await guard.authenticate(typeof key === 'string' ? key : null, address);
        if (!actor) return false;
        extra.actor = actor;
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        const throttled = await guard.keyThrottled((ctx.extra as unknown as ConnectionExtra).actor ?? null);
        if (throttled) {
          return [
            new GraphQLError(`${throttled.reason}; retry in ${throttled.retryAfterSeconds} s`, {
              extensions: { code: 'RATE_LIMITED' },
            }),
          ];
        }
        const tooLarge = documentTooLarge(payload.query);
        if (tooLarge) return [tooLarge];
        const { schema, execute, subscribe, contextFactory, parse, validate } = gateway.getEnveloped({
          ...ctx,
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
        if (Symbol.asyncIterator in Object(result))
          writeEventsDirectly(ctx.extra.socket, id, args.contextValue as object);
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
