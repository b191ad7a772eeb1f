// The REST read fast path: GET /api/orgs/{orgId}/config answered on node:http directly, without the
// fetch-API adapter, from the read cache. Anything else goes on to yoga.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { actorOfKey, hashApiKey } from '../auth/api-keys.ts';
import type { Gateway } from '../gateway.ts';
import { minimumCompressedBytes, negotiateEncoding } from '../rest/encoding.ts';
import { representationOf } from '../rest/org-config.ts';
import { etagOf, noneMatchFails } from '../rest/preconditions.ts';
import { admittedByGuard, keyRecordOf, plainOrigin } from './fast-path-checks.ts';
import { logAnswer, requestIdFrom } from './request-log.ts';

/** Only the plain form of the path: no query, no trailing slash, no escapes (those go to yoga). */
const configPath = /^\/api\/orgs\/([A-Za-z0-9][A-Za-z0-9._-]*)\/config$/;

/**
 * Wraps the gateway in a listener that answers cached REST reads itself, with the same bytes as
 * yoga's path would (status, headers, body), the same request log line and the same rate limits
 * (the gateway's own guard). It answers only for a known key of the organisation asked for, under
 * its limits, from the read cache (filled from the database on a miss); otherwise, and for
 * every other request, yoga answers as before.
 */
export function withFastRestRead(gateway: Gateway): RequestListener {
  const { cache, guard, logger } = gateway;

  /** Resolves true once it has answered; false (before touching the response) when yoga must. */
  async function answer(
    req: IncomingMessage,
    res: ServerResponse,
    orgId: string,
    key: string,
    startedAt: number,
  ): Promise<boolean> {
    const { headers } = req;
    const keyHash = hashApiKey(key.trim());
    // Unknown keys and other organisations (a 404) are yoga's to answer.
    const record = await keyRecordOf(cache, guard, req, keyHash);
    if (!record || record.orgId !== orgId) return false;
    const config = cache.peekConfig(orgId) ?? (await cache.getConfig(orgId));
    if (!config) return false;
    const representation = representationOf(config);
    const notModified = noneMatchFails(headers['if-none-match'] ?? null, config.version);
    let body: Buffer | undefined;
    let encoding: string | undefined;
    if (!notModified) {
      encoding = negotiateEncoding(headers['accept-encoding']);
      if (
        encoding === undefined ||
        encoding === 'identity' ||
        representation.raw.byteLength < minimumCompressedBytes
      ) {
        encoding = undefined;
        body = representation.raw;
      } else {
        body = representation.encodedAs(encoding);
      }
    }
    if (!(await admittedByGuard(guard, req, actorOfKey(record, keyHash)))) return false;
    if (res.headersSent || res.writableEnded) return true;

    // Headers in the order yoga's path writes them; CORS as yoga's default (any origin, with credentials).
    const origin = headers.origin;
    const vary = origin === undefined ? 'accept-encoding' : 'Origin, accept-encoding';
    const etag = etagOf(config.version);
    const out: Record<string, string | number> = {};
    if (notModified) {
      out.etag = etag;
      out['cache-control'] = 'private, no-cache';
      out.vary = vary;
    } else {
      out.vary = vary;
      out['content-type'] = 'application/json; charset=utf-8';
      out.etag = etag;
      out['cache-control'] = 'private, no-cache';
      if (encoding) out['content-encoding'] = encoding;
      out['content-length'] = body!.byteLength;
    }
    if (origin !== undefined) {
      out['access-control-allow-origin'] = origin;
      out['access-control-allow-credentials'] = 'true';
    }
    const requestId = requestIdFrom(headers['x-request-id'] as string | undefined);
    out['x-request-id'] = requestId;
    const status = notModified ? 304 : 200;
    res.writeHead(status, out);
    res.end(body);
    logAnswer(logger, requestId, 'GET', req.url!, status, startedAt);
    return true;
  }

  return (req, res) => {
    const startedAt = performance.now();
    const match = req.method === 'GET' ? configPath.exec(req.url!) : null;
    const { headers } = req;
    const key = headers['x-api-key'];
    if (
      !match ||
      typeof key !== 'string' ||
      // A body, a CORS preflight's questions, or an origin yoga would echo differently: yoga's.
      headers['content-length'] !== undefined ||
      headers['transfer-encoding'] !== undefined ||
      !plainOrigin(headers)
    ) {
      void gateway(req, res);
      return;
    }
    answer(req, res, match[1]!, key, startedAt).then(
      (answered) => {
        if (!answered) void gateway(req, res);
      },
      // Nothing was written before anything could throw: yoga answers (and reports) it.
      () => void gateway(req, res),
    );
  };
}
