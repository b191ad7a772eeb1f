// Server-sent events with ids: yoga writes none, so subscriptions over SSE get this result processor,
// which sets each event's id to the version it carries, for EventSource's Last-Event-ID on reconnect.
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { Response as AdapterResponse } from './fetch-api.ts';
import { attachDirectSink, type DirectSink } from './shared-events.ts';

const pingIntervalMs = 12_000;

/** The `version` of the first root field of a result, if it has one. */
function versionOf(result: ExecutionResult): number | undefined {
  const root = result.data ? Object.values(result.data)[0] : undefined;
  const version = root && typeof root === 'object' ? (root as { version?: unknown }).version : undefined;
  return typeof version === 'number' ? version : undefined;
}

/** Errors as GraphQL over HTTP serialises them, without yoga's internal `http` extension. */
function stringify(result: ExecutionResult): string {
  return JSON.stringify(result, (key, value) => (key === 'http' ? undefined : value));
}

/** The frame of each result, kept while the result lives: subscribers sharing a result share its bytes. */
const frames = new WeakMap<ExecutionResult, Uint8Array>();

function frameOf(result: ExecutionResult, encoder: TextEncoder): Uint8Array {
  let frame = frames.get(result);
  if (!frame) {
    const version = versionOf(result);
    const id = version === undefined ? '' : `id: ${version}\n`;
    frame = encoder.encode(`event: next\n${id}data: ${stringify(result)}\n\n`);
    frames.set(result, frame);
  }
  return frame;
}

/** The frame of each shared result as one HTTP/1.1 chunk (length, frame, CRLF), for the socket itself. */
const chunks = new WeakMap<ExecutionResult, Buffer>();

function chunkOf(result: ExecutionResult, encoder: TextEncoder): Buffer {
  let chunk = chunks.get(result);
  if (!chunk) {
    const frame = frameOf(result, encoder);
    chunks.set(
      result,
      (chunk = Buffer.concat([
        Buffer.from(`${frame.byteLength.toString(16)}\r\n`),
        frame,
        Buffer.from('\r\n'),
      ])),
    );
  }
  return chunk;
}

/**
 * How the fan-out writes this stream's live events (shared-events.ts). Once everything pushed
 * before has gone through to the socket (the response head with the first comment included), an
 * event is written to the socket as one chunk of the response's chunked body: one write, where
 * the response itself makes four and a deferred writev (it measured twice as fast over 10,000
 * subscribers on the bare server, bench/bare-fanout-server.ts). Otherwise it is pushed into the
 * stream. Either way, once the client is a buffer behind, the event waits in the subscription.
 */
function directSink(
  stream: Readable,
  response: ServerResponse | undefined,
  encoder: TextEncoder,
  finished: () => boolean,
): DirectSink {
  // Known once the head is written: a chunked body (HTTP/1.1), not compressed.
  let chunked: boolean | undefined;
  const isChunked = (head: ServerResponse) =>
    (chunked ??= head.headersSent
      ? (head as unknown as { chunkedEncoding?: boolean }).chunkedEncoding === true &&
        !head.hasHeader('content-encoding')
      : undefined) === true;
  return (result) => {
    if (finished() || stream.readableLength >= stream.readableHighWaterMark) return false;
    const socket = response?.socket;
    if (socket && stream.readableFlowing && stream.readableLength === 0 && isChunked(response!)) {
      if (!socket.writable || socket.writableLength >= socket.writableHighWaterMark) return false;
      socket.write(chunkOf(result, encoder));
    } else {
      stream.push(frameOf(result, encoder));
    }
    return true;
  };
}

const comment = Buffer.from(':\n\n');
const complete = Buffer.from('event: complete\ndata:\n\n');

/**
 * The stream as a Node Readable in the server adapter's own Response, which the adapter pipes to
 * the socket: each event costs a push rather than a web stream's read promises. The fan-out writes
 * the live events it can itself (directSink).
 */
function nodeEventStream(
  results: AsyncIterable<ExecutionResult>,
  request: Request,
  response: ServerResponse | undefined,
  live: LiveSubscribers,
): Response {
  const encoder = new TextEncoder();
  const iterator = results[Symbol.asyncIterator]();
  let ping: NodeJS.Timeout | undefined;
  let finished = false;
  live.sse += 1;
  const finish = () => {
    if (finished) return;
    finished = true;
    live.sse -= 1;
    clearInterval(ping);
    void iterator.return?.();
  };
  // The client went away: end the subscription, which frees its place in the change feed.
  request.signal.addEventListener('abort', finish);
  if (request.signal.aborted) queueMicrotask(finish);
  let pulling = false;
  const pull = (): void => {
    pulling = true;
    iterator.next().then(
      ({ done, value }) => {
        pulling = false;
        if (finished) return;
        if (done) {
          finished = true;
          live.sse -= 1;
          clearInterval(ping);
          if (value != null) stream.push(frameOf(value, encoder));
          stream.push(complete);
          stream.push(null);
        } else if (value == null || stream.push(frameOf(value, encoder))) {
          pull();
        }
      },
      (error: unknown) => {
        pulling = false;
        finish();
        stream.destroy(error as Error);
      },
    );
  };
  const stream = new Readable({
    read() {
      if (!pulling && !finished) pull();
    },
    destroy(error, callback) {
      finish();
      callback(error);
    },
  });
  attachDirectSink(
    request,
    directSink(stream, response, encoder, () => finished),
  );
  // A comment first, so that proxies and browsers see the response start at once.
  stream.push(comment);
  ping = setInterval(() => {
    if (!finished && stream.readableLength === 0) stream.push(comment);
  }, pingIntervalMs);
  // Headers of this answer alone: whatever is added to them later (CORS) must not reach other answers.
  const headers = {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  };
  return new AdapterResponse(stream as unknown as BodyInit, { status: 200, headers }) as unknown as Response;
}

/** Live subscriptions by transport (edge/metrics.ts): this door keeps the SSE count. */
interface LiveSubscribers {
  sse: number;
}

/** The status of a stream refused before it started: the one its errors carry, else by its code. */
function refusedStatus(result: ExecutionResult): number {
  let status = 0;
  for (const error of result.errors ?? []) {
    const http = error.extensions?.http as { status?: number } | undefined;
    const byCode = { UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404 }[String(error.extensions?.code)];
    status = Math.max(status, http?.status ?? byCode ?? 400);
  }
  return status;
}

/**
 * An EventSource (GET) whose stream cannot start (no key, a wrong organisation, variables that do
 * not coerce) is answered with its errors as JSON and their status, not as a stream of one error:
 * an EventSource reconnects, forever, to a stream that ends, and stops at an answer other than 200.
 */
function refusedEventSource(result: ExecutionResult): Response {
  return new AdapterResponse(stringify(result), {
    status: refusedStatus(result),
    headers: { 'content-type': 'application/json; charset=utf-8' },
  }) as unknown as Response;
}

export function useSseEventIds(live: LiveSubscribers): Plugin {
  return {
    onResultProcess({ result, setResultProcessor, request, serverContext }) {
      const accepts = request.headers.get('accept') ?? '';
      const single = result as ExecutionResult;
      if (
        request.method === 'GET' &&
        accepts.includes('text/event-stream') &&
        !(Symbol.asyncIterator in Object(result)) &&
        single.errors?.length &&
        single.data == null
      ) {
        setResultProcessor(() => refusedEventSource(single), 'text/event-stream');
        return;
      }
      if (Symbol.asyncIterator in Object(result) && accepts.includes('text/event-stream')) {
        setResultProcessor(
          (results) =>
            nodeEventStream(
              results as AsyncIterable<ExecutionResult>,
              request,
              (serverContext as { res?: ServerResponse }).res,
              live,
            ),
          'text/event-stream',
        );
      }
    },
  };
}
