// The one edge. Every HTTP request passes these steps once, in this order (and a WebSocket
// connection the ones marked "ws", from the same functions):
//   1. request id      x-request-id kept when sane, else a new one
//   2. body limit      POST, PUT and PATCH bodies read here, refused with 413 over the limit
//   3. address limit   an address that sent too many unknown keys is refused (429)          ws
//   4. key -> Actor    x-api-key looked up (the key cache first); an unknown key counts     ws
//                      against its address; an expired one is refused (401 KEY_EXPIRED);
//                      widget (pk_) and scoped keys are Actors like any other, whose role and
//                      groups the service checks
//   5. key limit       requests per minute of the key (429)                                  ws (per operation)
//   6. CORS            a preflight is answered; the headers of every answer to an Origin
//   7. the doors       answerers in turn (metrics, widget snapshot, REST, GraphQL plans, yoga):
//                      each answers or passes
//   8. the log line    one per answer: method, path, status, time; never keys nor bodies
//   9. metrics         by door, plan, status class and operation type
//  10. writing         the answer with its request id and CORS headers
// Before step 1, connection order: a request pipelined on a connection behind an unsafe one (any
// method but GET, HEAD and OPTIONS) waits until that one is answered, so it sees what it wrote.
// and, for every subscription a door starts over SSE or WebSocket:
//  11. stream caps     streams held at once per address and per secret key (TOO_MANY_STREAMS) ws
// A new rule for every request (per-organisation CORS, a widget key's origin) is one more step
// here, in its place in this order.
import { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ExecutionResult } from 'graphql';
import type { Actor } from '../auth/actor.ts';
import { StorageUnavailableError } from '../config/errors.ts';
import type { Logger } from '../logging.ts';
import type { ApiKeyRecord } from '../store/config-store.ts';
import { storageRetryAfterSeconds } from '../store/storage-failures.ts';
import { corsHeaders, withCors } from './cors.ts';
import type { RequestGuard, Throttled } from './guard.ts';
import type { Door, Metrics, OperationType } from './metrics.ts';
import { logAnswer, requestIdFrom } from './request-log.ts';
import { type StreamCaps, streamKeyOf, tooManyStreams } from './stream-caps.ts';

/** Methods that change nothing: pipelined after one another, they may be answered at once. */
const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A request as the doors see it, once the edge's steps before them have passed. */
export interface EdgeRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly id: string;
  /** The path, without query. */
  readonly path: string;
  /** The body of a POST, PUT or PATCH, read whole under the limit; undefined for other methods. */
  readonly body: Buffer | undefined;
  readonly actor: Actor | null;
  /** The key's record, for what a door remembers per key; null without a known key. */
  readonly key: ApiKeyRecord | null;
  readonly startedAt: number;
  /** Set by the door that answers, for the metrics. */
  door: Door;
  planned: boolean;
  operation: OperationType;
}

/** An answer for the edge to write: status, headers (the edge adds its own) and the whole body. */
export interface Answer {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body?: Buffer | string;
}

/** An answer a door writes itself (a stream, yoga's Response); the edge has set its headers on `res` first. */
export interface WrittenAnswer {
  readonly status: number;
  /** Writes the answer; `headers` are the edge's (request id, CORS), to merge over the door's. */
  write(headers: OutgoingHttpHeaders): void;
}

/** A door: answers, or passes (undefined) to the next one. */
export type Answerer = (
  request: EdgeRequest,
) => Answer | WrittenAnswer | undefined | Promise<Answer | WrittenAnswer | undefined>;

export interface EdgeOptions {
  readonly guard: RequestGuard;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly bodyLimitBytes: number;
  /** The streams held per address and per key (step 11). */
  readonly streams: StreamCaps;
  /** Tried in turn; the last one must answer everything. */
  readonly answerers: readonly Answerer[];
}

/** The path of a request target, without query or fragment. */
export function pathOf(url: string): string {
  const end = url.search(/[?#]/);
  return end < 0 ? url : url.slice(0, end);
}

/** A refusal before any door, in the format of the door the path leads to: problem+json under /api/, a GraphQL error elsewhere. */
export function refusal(
  path: string,
  status: number,
  code: string,
  message: string,
  headers: OutgoingHttpHeaders = {},
): Answer {
  if (path.startsWith('/api/')) return problemAnswer(status, code, message, { headers });
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify({ errors: [{ message, extensions: { code } }] }),
  };
}

/** An RFC 9457 problem answer with our stable code (every REST answer varies by encoding). */
export function problemAnswer(
  status: number,
  code: string,
  detail: string,
  options: { problems?: readonly unknown[]; headers?: OutgoingHttpHeaders } = {},
): Answer {
  const body = {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    code,
    detail,
    ...(options.problems ? { problems: options.problems } : {}),
  };
  return {
    status,
    headers: {
      'content-type': 'application/problem+json',
      'cache-control': 'no-store',
      ...options.headers,
      vary: 'accept-encoding',
    },
    body: JSON.stringify(body),
  };
}

const tooManyRequests = (path: string, throttled: Throttled) =>
  refusal(path, 429, 'RATE_LIMITED', `${throttled.reason}; retry in ${throttled.retryAfterSeconds} s`, {
    'retry-after': String(throttled.retryAfterSeconds),
  });

const methodsWithBodies = new Set(['POST', 'PUT', 'PATCH']);

type BodyRead = Buffer | 'too-large' | 'declared-too-large' | null;

/** Step 2: the whole body under the limit; null when the client went away. */
function readBody(req: IncomingMessage, limitBytes: number): Promise<BodyRead> {
  const declared = Number(req.headers['content-length']);
  if (declared > limitBytes) return Promise.resolve('declared-too-large');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limitBytes) {
        // Stop reading: the answer closes the connection, which drops the rest of the body.
        req.off('data', onData);
        req.pause();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', () => resolve(null));
    req.once('aborted', () => resolve(null));
  });
}

/** The edge: a node:http request listener, and the checks a WebSocket connection passes. */
export class Edge {
  constructor(private readonly options: EdgeOptions) {}

  /**
   * Per connection, the answer of the last unsafe request still in flight. HTTP/1.1 lets a server
   * work on pipelined requests at once only while all of them are safe (RFC 9112, 9.3.2).
   */
  private readonly unsafeInFlight = new WeakMap<Socket, Promise<void>>();

  /** The request listener. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    const before = this.unsafeInFlight.get(socket);
    const handled = before ? before.then(() => this.handle(req, res)) : this.handle(req, res);
    if (safeMethods.has(req.method ?? '')) return void handled;
    const answered = handled.then(
      () => undefined,
      () => undefined,
    );
    this.unsafeInFlight.set(socket, answered);
    void answered.then(() => {
      if (this.unsafeInFlight.get(socket) === answered) this.unsafeInFlight.delete(socket);
    });
  };

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { guard, logger, answerers } = this.options;
    const startedAt = performance.now();
    // 1. request id
    const id = requestIdFrom(req.headers['x-request-id'] as string | undefined);
    const path = pathOf(req.url ?? '/');
    let body: Buffer | undefined;
    let answer: Answer | WrittenAnswer | undefined;
    let request: EdgeRequest | undefined;
    try {
      // 2. body limit
      if (methodsWithBodies.has(req.method!)) {
        const read = await readBody(req, this.options.bodyLimitBytes);
        if (read === null) return void res.destroy(); // the client went away: nobody to answer
        if (typeof read === 'string') {
          const declared = req.headers['content-length'];
          const detail =
            read === 'declared-too-large'
              ? `the body is ${declared} bytes; the limit is ${this.options.bodyLimitBytes}`
              : `the body exceeds the limit of ${this.options.bodyLimitBytes} bytes`;
          answer = refusal(path, 413, 'PAYLOAD_TOO_LARGE', detail, { connection: 'close' });
        } else body = read;
      }
      if (!answer) {
        // 3. address limit, 4. key -> Actor, 5. key limit
        const address = guard.clientAddress(req);
        const blocked = await guard.addressThrottled(address);
        if (blocked) {
          this.options.metrics.refused('per-address');
          answer = tooManyRequests(path, blocked);
        } else {
          const key = req.headers['x-api-key'];
          const keyText = typeof key === 'string' ? key : null;
          // From the key cache without a promise when it holds the key (nearly always).
          const { record, actor, expired } =
            guard.authenticatedFromCache(keyText) ?? (await guard.authenticate(keyText, address));
          const throttled = expired ? null : await guard.keyThrottled(actor);
          if (expired) {
            answer = refusal(path, 401, 'KEY_EXPIRED', 'the API key has expired');
          } else if (throttled) {
            this.options.metrics.refused('per-key');
            answer = tooManyRequests(path, throttled);
          } else {
            request = {
              req,
              res,
              id,
              path,
              body,
              actor,
              key: record,
              startedAt,
              door: path.startsWith('/api/') ? 'rest' : 'graphql',
              planned: false,
              operation: 'none',
            };
            // 6. CORS: a preflight is answered here (no door sees it).
            if (req.method === 'OPTIONS') answer = { status: 204, headers: { 'content-length': '0' } };
            // 7. the doors
            for (let i = 0; !answer && i < answerers.length; i++) {
              const answered = answerers[i]!(request);
              // A door that passes at once costs no promise.
              answer = answered instanceof Promise ? await answered : answered;
            }
          }
        }
      }
    } catch (error) {
      if (error instanceof StorageUnavailableError) {
        // The database could not be read (looking up a key): 503, to retry.
        logger.error({ err: error, requestId: id, path }, 'storage unavailable');
        answer = refusal(path, 503, 'STORAGE_UNAVAILABLE', error.message, {
          'retry-after': String(storageRetryAfterSeconds),
        });
      } else {
        logger.error({ err: error, requestId: id, path }, 'unexpected error');
        answer = refusal(path, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
      }
    }
    if (!answer) answer = refusal(path, 404, 'NOT_FOUND', `no such endpoint: ${path}`);
    if (res.headersSent || res.writableEnded) return;
    const status = answer.status;
    // 8. the log line
    logAnswer(logger, id, req.method!, path, status, startedAt);
    // 9. metrics
    this.options.metrics.answered(
      request?.door ?? (path.startsWith('/api/') ? 'rest' : 'graphql'),
      request?.planned ?? false,
      status,
      request?.operation ?? 'none',
      (performance.now() - startedAt) / 1000,
    );
    // 10. writing, with the CORS decision's headers
    const cors = corsHeaders(req.headers);
    if ('write' in answer) {
      const headers: OutgoingHttpHeaders = cors ?? {};
      headers['x-request-id'] = id;
      answer.write(headers);
      return;
    }
    const headers = cors ? withCors(answer.headers, cors) : answer.headers;
    const out = answer.body;
    if (out !== undefined && status !== 204 && status !== 304)
      headers['content-length'] = typeof out === 'string' ? Buffer.byteLength(out) : out.byteLength;
    headers['x-request-id'] = id;
    res.writeHead(status, headers);
    res.end(req.method === 'HEAD' ? undefined : out);
  }

  /**
   * Steps 3 and 4 for a WebSocket connection (its key comes in connection_init): the actor, or why
   * it is refused (4429 for an address over its limit, 4403 without a known key).
   */
  async admitConnection(
    req: IncomingMessage,
    key: unknown,
  ): Promise<{ actor: Actor } | { closeCode: number; reason: string }> {
    const { guard } = this.options;
    const address = guard.clientAddress(req);
    const blocked = await guard.addressThrottled(address);
    if (blocked) {
      this.options.metrics.refused('per-address');
      return { closeCode: 4429, reason: `${blocked.reason}; retry in ${blocked.retryAfterSeconds} s` };
    }
    const { actor } = await guard.authenticate(typeof key === 'string' ? key : null, address);
    return actor ? { actor } : { closeCode: 4403, reason: 'Forbidden' };
  }

  /**
   * Step 11 for a subscription a door starts (SSE through yoga, or WebSocket): a release function,
   * to call once the stream ends, or the refusal over a cap (TOO_MANY_STREAMS; HTTP 429 over SSE).
   */
  admitStream(req: IncomingMessage | undefined, actor: Actor | null): (() => void) | ExecutionResult {
    const { streams, guard } = this.options;
    const release = streams.acquire(guard.clientAddress(req), streamKeyOf(actor));
    return typeof release === 'string' ? tooManyStreams(release, streams.limits) : release;
  }

  /** Step 5 for one operation over a WebSocket connection: why it is refused, or null. */
  async operationThrottled(actor: Actor | null): Promise<string | null> {
    const throttled = await this.options.guard.keyThrottled(actor);
    if (!throttled) return null;
    this.options.metrics.refused('per-key');
    return `${throttled.reason}; retry in ${throttled.retryAfterSeconds} s`;
  }
}
