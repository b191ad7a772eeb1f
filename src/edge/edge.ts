// The one edge. Every HTTP request passes these steps once, in this order (and a WebSocket
// connection the ones marked "ws", from the same functions):
//   1. request id      x-request-id kept when sane, else a new one
//   2. body limit      POST, PUT and PATCH bodies read whole (edge/request-body.ts), 413 over the limit
//   3. address limit   an address that sent too many unknown keys is refused (429)          ws
//   4. key -> Actor    the one credential (edge/credentials.ts): x-api-key, or in the URL a   ws
//                      publishable key (?key=pk_…) or a stream ticket (?ticket=st_…), spent
//                      here; a secret in the URL is refused unread (400 SECRET_KEY_IN_URL).
//                      The key cache first; an unknown key or ticket counts against its
//                      address; an expired key is refused (401 KEY_EXPIRED). Widget (pk_) and
//                      scoped keys are Actors like any other, whose role and groups the
//                      service checks
//   5. key limit       requests per minute of the key (429)                                  ws (per operation)
//   6. CORS            a preflight is answered alike for every path; an Origin is allowed     ws (widget keys)
//                      when the organisation (the key's, else the path's) lists it, and a
//                      widget key from an origin not listed is refused (403 ORIGIN_NOT_ALLOWED)
//   7. the doors       answerers in turn (metrics, widget snapshot, REST, GraphQL plans, yoga):
//                      each answers or passes
//   8. the log line    one per answer: method, path, status, time; never keys, queries nor bodies
//   9. metrics         by door, plan, status class and operation type
//  10. writing         the answer with its request id and CORS headers
// Before step 1, connection order: a request pipelined on a connection behind an unsafe one (any
// method but GET, HEAD and OPTIONS) waits until that one is answered, so it sees what it wrote.
// and, for every subscription a door starts over SSE or WebSocket:
//  11. stream caps     streams held at once per address and per secret key (TOO_MANY_STREAMS) ws
//  12. key lifetime    the stream ends once its key is revoked or expires (edge/key-lifetimes.ts) ws
// A new rule for every request is one more step here, in its place in this order.
import { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ExecutionResult } from 'graphql';
import { type Actor, isPublishable } from '../auth/actor.ts';
import { type OriginDecision, originDecision } from '../auth/origin-policy.ts';
import { StorageUnavailableError } from '../config/errors.ts';
import type { Logger } from '../logging.ts';
import type { ApiKeyRecord } from '../store/config-store.ts';
import { storageRetryAfterSeconds } from '../store/storage-failures.ts';
import { addAllowance, preflightHeaders } from './cors.ts';
import { credentialOf } from './credentials.ts';
import type { Authenticated, RequestGuard, Throttled } from './guard.ts';
import type { KeyLifetimes } from './key-lifetimes.ts';
import type { Door, Metrics, OperationType } from './metrics.ts';
import { readBody } from './request-body.ts';
import { logAnswer, requestIdFrom } from './request-log.ts';
import { type StreamCaps, streamKeyOf, tooManyStreams } from './stream-caps.ts';

const denied: OriginDecision = { kind: 'denied' };

/** Methods that change nothing: pipelined after one another, they may be answered at once. */
const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * On a connection, the answer of its last unsafe request still in flight. HTTP/1.1 lets a server
 * work on pipelined requests at once only while all of them are safe (RFC 9112, 9.3.2). A property of
 * the socket rather than a WeakMap entry: every request looks it up, and this costs it least.
 */
const unsafeInFlight = Symbol('unsafe request in flight');
type Connection = Socket & { [unsafeInFlight]?: Promise<void> | undefined };

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
  /**
   * The credential came in the URL (?key=pk_… or ?ticket=…): sent on purpose, never by the browser
   * on its own, so a cross-site request cannot borrow it (yoga's CSRF check has nothing to guard).
   */
  readonly credentialsFromUrl: boolean;
  /** A publishable (pk_) key's text, which is no secret (a page embeds it); null for any other credential. */
  readonly publishableKey: string | null;
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
  /** Ends streams whose key is revoked or expires (step 12). */
  readonly keyLifetimes: KeyLifetimes;
  /** An organisation's allowed origins (website.allowedOrigins); undefined for one that does not exist. */
  readonly allowedOrigins: (
    orgId: string,
  ) => readonly string[] | undefined | Promise<readonly string[] | undefined>;
  /** Tried in turn; the last one must answer everything. */
  readonly answerers: readonly Answerer[];
}

/** The path of a request target, without query or fragment. */
export function pathOf(url: string): string {
  // A request target carries no fragment (RFC 9112, 3.2), but a client may send one: cut at either.
  const query = url.indexOf('?');
  const fragment = url.indexOf('#');
  const end = query < 0 ? fragment : fragment < 0 ? query : Math.min(query, fragment);
  return end < 0 ? url : url.slice(0, end);
}

/** The organisation a path names: /api/orgs/{orgId}/…, /widget/{orgId}/…, /preview/{orgId}. */
const orgPath = /^\/(?:api\/orgs|widget|preview)\/([^/]+)/;

/** A refusal before any door, in the format of the door the path leads to: problem+json under /api/, /widget/ and /preview/, a GraphQL error elsewhere. */
export function refusal(
  path: string,
  status: number,
  code: string,
  message: string,
  headers: OutgoingHttpHeaders = {},
): Answer {
  if (path.startsWith('/api/') || path.startsWith('/widget/') || path.startsWith('/preview/'))
    return problemAnswer(status, code, message, { headers });
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

/** A 401 before any door: the key or ticket is known but no longer good, and how to send another. */
const unauthorised = (path: string, code: string, message: string) =>
  refusal(path, 401, code, message, { 'www-authenticate': 'ApiKey header="x-api-key"' });

const originNotAllowed = (path: string) =>
  refusal(
    path,
    403,
    'ORIGIN_NOT_ALLOWED',
    "this page's origin is not among the organisation's allowed origins (website.allowedOrigins)",
  );

const methodsWithBodies = new Set(['POST', 'PUT', 'PATCH']);

/** The edge: a node:http request listener, and the checks a WebSocket connection passes. */
export class Edge {
  constructor(private readonly options: EdgeOptions) {}

  /** The request listener. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    const socket: Connection = req.socket;
    const before = socket[unsafeInFlight];
    const handled = before ? before.then(() => this.handle(req, res)) : this.handle(req, res);
    if (safeMethods.has(req.method ?? '')) return void handled;
    const answered = handled.then(
      () => undefined,
      () => undefined,
    );
    socket[unsafeInFlight] = answered;
    void answered.then(() => {
      if (socket[unsafeInFlight] === answered) socket[unsafeInFlight] = undefined;
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
    /** Step 6's decision; undefined while it has not run (a refusal before it). */
    let allowance: OriginDecision | undefined;
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
        // Each step that counts in this process answers without a promise; only a shared count awaits.
        const blocking = guard.addressThrottled(address);
        const blocked = blocking instanceof Promise ? await blocking : blocking;
        if (blocked) {
          this.options.metrics.refused('per-address');
          answer = tooManyRequests(path, blocked);
        } else {
          const credential = credentialOf(req);
          let authenticated: Authenticated | { code: string; message: string };
          if (credential.kind === 'refused') authenticated = credential;
          else if (credential.kind === 'ticket')
            authenticated = await guard.redeemTicket(credential.ticket, address);
          // From the key cache without a promise when it holds the key (nearly always).
          else
            authenticated =
              guard.authenticatedFromCache(credential.key) ??
              (await guard.authenticate(credential.key, address));
          if ('code' in authenticated) {
            // A secret in the URL, two credentials, a ticket spent, expired or unknown.
            answer =
              credential.kind === 'refused'
                ? refusal(path, 400, authenticated.code, authenticated.message)
                : unauthorised(path, authenticated.code, authenticated.message);
          } else {
            const { record, actor, expired } = authenticated;
            const throttling = expired ? null : guard.keyThrottled(actor);
            const throttled = throttling instanceof Promise ? await throttling : throttling;
            if (expired) {
              answer = unauthorised(path, 'KEY_EXPIRED', 'the API key has expired');
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
                credentialsFromUrl:
                  credential.kind === 'ticket' || (credential.kind === 'key' && credential.fromUrl),
                publishableKey: credential.kind === 'key' && isPublishable(actor) ? credential.key : null,
                key: record,
                startedAt,
                door: path.startsWith('/api/') ? 'rest' : 'graphql',
                planned: false,
                operation: 'none',
              };
              // 6. CORS: a preflight is answered here (no door sees it); a widget key's origin is checked.
              if (req.method === 'OPTIONS') {
                answer = { status: 204, headers: preflightHeaders(req.headers) };
              } else if (req.headers.origin !== undefined) {
                const deciding = this.originDecision(req.headers.origin, actor, path);
                allowance = deciding instanceof Promise ? await deciding : deciding;
                if (allowance.kind === 'denied' && isPublishable(actor)) answer = originNotAllowed(path);
              }
              // 7. the doors
              for (let i = 0; !answer && i < answerers.length; i++) {
                const answered = answerers[i]!(request);
                // A door that passes at once costs no promise.
                answer = answered instanceof Promise ? await answered : answered;
              }
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
    // 10. writing, with the CORS decision's headers (for a refusal before step 6, the path's organisation's)
    if (allowance === undefined && req.method !== 'OPTIONS' && req.headers.origin !== undefined)
      allowance = await Promise.resolve(this.originDecision(req.headers.origin, null, path)).catch(
        () => denied,
      );
    if ('write' in answer) {
      const headers: OutgoingHttpHeaders = {};
      if (allowance) addAllowance(headers, allowance);
      headers['x-request-id'] = id;
      answer.write(headers);
      return;
    }
    const headers = answer.headers;
    if (allowance) addAllowance(headers, allowance);
    const out = answer.body;
    if (out !== undefined && status !== 204 && status !== 304)
      headers['content-length'] = typeof out === 'string' ? Buffer.byteLength(out) : out.byteLength;
    headers['x-request-id'] = id;
    res.writeHead(status, headers);
    res.end(req.method === 'HEAD' ? undefined : out);
  }

  /**
   * Step 6's decision for a request from `origin`: the organisation of its key, or without a key the
   * one its path names; a request naming no organisation is allowed nowhere. At once when the cache
   * holds the organisation (nearly always).
   */
  private originDecision(
    origin: string,
    actor: Actor | null,
    path: string,
  ): OriginDecision | Promise<OriginDecision> {
    const orgId = actor?.kind === 'apiKey' ? actor.orgId : orgPath.exec(path)?.[1];
    const listed = orgId === undefined ? undefined : this.options.allowedOrigins(orgId);
    return listed instanceof Promise
      ? listed.then((found) => originDecision(found ?? [], origin))
      : originDecision(listed ?? [], origin);
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
    if (!actor) return { closeCode: 4403, reason: 'Forbidden' };
    // Step 6: a browser's WebSocket sends its page's Origin, which no CORS protects.
    const origin = req.headers.origin;
    if (isPublishable(actor) && origin !== undefined) {
      const decision = await this.originDecision(origin, actor, '');
      if (decision.kind === 'denied') return { closeCode: 4403, reason: 'ORIGIN_NOT_ALLOWED' };
    }
    return { actor };
  }

  /**
   * Steps 11 and 12 for a subscription a door starts (SSE through yoga, or WebSocket): a release
   * function, to call once the stream ends, or the refusal over a cap (TOO_MANY_STREAMS; HTTP 429
   * over SSE). `end` is called once the stream's key is revoked or expires.
   */
  admitStream(
    req: IncomingMessage | undefined,
    actor: Actor | null,
    end: () => void,
  ): (() => void) | ExecutionResult {
    const { streams, guard, keyLifetimes } = this.options;
    const release = streams.acquire(guard.clientAddress(req), streamKeyOf(actor));
    if (typeof release === 'string') return tooManyStreams(release, streams.limits);
    const unwatch = keyLifetimes.watch(actor, end);
    return () => {
      unwatch();
      release();
    };
  }

  /** Step 5 for one operation over a WebSocket connection: why it is refused, or null. */
  async operationThrottled(actor: Actor | null): Promise<string | null> {
    const throttled = await this.options.guard.keyThrottled(actor);
    if (!throttled) return null;
    this.options.metrics.refused('per-key');
    return `${throttled.reason}; retry in ${throttled.retryAfterSeconds} s`;
  }
}
