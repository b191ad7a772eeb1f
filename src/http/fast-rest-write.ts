// The REST write fast path: a plain PUT /api/orgs/{orgId}/config that succeeds is answered on
// node:http directly, without the fetch-API adapter and the plugin pipeline. Anything else goes to
// yoga, with the body it has read handed over.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { actorOfKey, hashApiKey } from '../auth/api-keys.ts';
import { checkPatch } from '../config/checked-patches.ts';
import { ConfigValidationError } from '../config/errors.ts';
import { parseLegacyPatch } from '../config/legacy.ts';
import type { OrgConfig } from '../config/model.ts';
import type { Gateway } from '../gateway.ts';
import { minimumCompressedBytes, negotiateEncoding } from '../rest/encoding.ts';
import { bodyLimitBytes } from '../rest/limits.ts';
import { representationOf } from '../rest/org-config.ts';
import { etagOf } from '../rest/preconditions.ts';
import { problemBody } from '../rest/problem.ts';
import { markKeyCounted } from './api-key-auth.ts';
import { readBody } from './fast-path-checks.ts';
import { logAnswer, requestIdFrom } from './request-log.ts';

/** Only the plain form of the path: no query, no trailing slash, no escapes (those go to yoga). */
const configPath = /^\/api\/orgs\/([A-Za-z0-9][A-Za-z0-9._-]*)\/config$/;

/**
 * Wraps a listener (the gateway, or the read fast path in front of it) in one that commits plain
 * REST updates itself: with the same bytes as yoga's path (status, headers, body), the same request
 * log line, the same rate limits (the gateway's own guard) and the same domain service. It answers
 * only a PUT with a JSON body of declared length, no conditions (If-Match) and no Origin, from a key
 * cached as an admin of that organisation, that is under its limits and whose body is a valid patch
 * that commits. Everything else (every refusal included) is yoga's to answer: the body already read
 * goes along as the request's body, and the key's limit, counted here, is not counted again.
 */
export function withFastRestWrite(gateway: Gateway, next: RequestListener): RequestListener {
  const { cache, guard, logger, service } = gateway;

  /** Hands the request to yoga, with the body read here (the adapter takes a request's `body` as already read). */
  function toYoga(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    (req as IncomingMessage & { body?: Buffer }).body = body;
    void gateway(req, res);
  }

  /**
   * Where an answer stands, for what a failure must do: yoga starts over while nothing was tried; a
   * failed or committed update is answered here, as yoga's path answers what it did not expect.
   */
  type Stage = { body: Buffer | null; failed: boolean; committed: boolean };

  async function answer(
    req: IncomingMessage,
    res: ServerResponse,
    orgId: string,
    key: string,
    startedAt: number,
    stage: Stage,
  ): Promise<void> {
    const keyHash = hashApiKey(key.trim());
    const record = cache.peekApiKey(keyHash);
    // Unknown or uncached keys, other organisations and adviser keys are refused by yoga.
    if (!record || record.orgId !== orgId || record.role !== 'admin') return void gateway(req, res);
    const address = guard.clientAddress(req);
    if (await guard.addressThrottled(address)) return void gateway(req, res);
    const actor = actorOfKey(record, keyHash);
    // Counted once, here, in the order yoga counts it: before the body is read.
    const throttled = await guard.keyThrottled(actor);
    markKeyCounted(req, record.id, throttled);
    if (throttled) return void gateway(req, res);

    const body = await readBody(req);
    if (body === null) return; // the client went away: nobody to answer
    stage.body = body;
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      return toYoga(req, res, body);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return toYoga(req, res, body);
    const parsed = parseLegacyPatch(value as Record<string, unknown>);
    // An invalid patch is refused by yoga's path, which lists every problem.
    const patch = parsed.ok ? checkPatch(parsed.patch) : null;
    if (!patch?.ok) return toYoga(req, res, body);
    let config: OrgConfig;
    try {
      // The checked value, which the service knows as checked (config/checked-patches.ts).
      ({ config } = await service.update(actor, {
        orgId,
        patch: patch.value,
        expectedVersion: null,
        door: 'rest',
      }));
    } catch (error) {
      // Refused by a rule across settings, with nothing written: yoga's path does it again and lists the problems.
      if (error instanceof ConfigValidationError) return toYoga(req, res, body);
      stage.failed = true;
      throw error;
    }
    stage.committed = true;
    if (res.headersSent || res.writableEnded) return;

    // Headers in the order yoga's path writes them (see fast-rest-read.ts); no Origin, so no CORS.
    const representation = representationOf(config);
    let encoding = negotiateEncoding(req.headers['accept-encoding']);
    if (encoding === 'identity' || representation.raw.byteLength < minimumCompressedBytes)
      encoding = undefined;
    const bytes = encoding ? representation.encodedAs(encoding) : representation.raw;
    const out: Record<string, string | number> = {
      vary: 'accept-encoding',
      'content-type': 'application/json; charset=utf-8',
      etag: etagOf(config.version),
      'cache-control': 'private, no-cache',
    };
    if (encoding) out['content-encoding'] = encoding;
    out['content-length'] = bytes.byteLength;
    const requestId = requestIdFrom(req.headers['x-request-id'] as string | undefined);
    out['x-request-id'] = requestId;
    res.writeHead(200, out);
    res.end(bytes);
    logAnswer(logger, requestId, 'PUT', req.url!, 200, startedAt);
  }

  return (req, res) => {
    const startedAt = performance.now();
    const match = req.method === 'PUT' ? configPath.exec(req.url!) : null;
    const { headers } = req;
    const key = headers['x-api-key'];
    const declaredLength = Number(headers['content-length']);
    if (
      !match ||
      typeof key !== 'string' ||
      // A body of unknown length, none, or one over the limit: yoga reads (or refuses) it.
      headers['transfer-encoding'] !== undefined ||
      !(declaredLength > 0 && declaredLength <= bodyLimitBytes) ||
      headers['content-type']?.split(';')[0]?.trim().toLowerCase() !== 'application/json' ||
      // Conditions, and browsers (CORS): yoga's.
      headers['if-match'] !== undefined ||
      headers['if-none-match'] !== undefined ||
      headers.origin !== undefined ||
      headers['access-control-request-method'] !== undefined ||
      headers['access-control-request-headers'] !== undefined
    ) {
      next(req, res);
      return;
    }
    const stage: Stage = { body: null, failed: false, committed: false };
    answer(req, res, match[1]!, key, startedAt, stage).catch((error: unknown) => {
      if (res.headersSent) return;
      if (!stage.failed && !stage.committed)
        return stage.body ? toYoga(req, res, stage.body) : void gateway(req, res);
      // The REST door's answer to the unexpected (rest/org-config.ts), header for header.
      logger.error({ err: error }, 'unexpected error');
      const body = problemBody(500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
      const requestId = requestIdFrom(req.headers['x-request-id'] as string | undefined);
      res.writeHead(500, {
        'content-type': 'application/problem+json',
        'cache-control': 'no-store',
        'content-length': Buffer.byteLength(body),
        'x-request-id': requestId,
        vary: 'accept-encoding',
      });
      res.end(body);
      logAnswer(logger, requestId, 'PUT', req.url!, 500, startedAt);
    });
  };
}
