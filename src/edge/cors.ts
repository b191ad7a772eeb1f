// The CORS headers of the edge's step 6. Whether an origin is allowed is the organisation's
// (auth/origin-policy.ts); this module turns the decision into headers, and answers preflights.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { OriginDecision } from '../auth/origin-policy.ts';

/** How long a browser may keep a preflight's answer, seconds (Chromium keeps it 2 hours at most). */
const preflightMaxAgeSeconds = 600;

/**
 * The answer to every preflight, whatever its path: a preflight carries no key, and for /graphql
 * names no organisation, so it is answered alike for every organisation, existing or not, and
 * reveals nothing; the actual request, with its key, decides (and is refused without allowance).
 */
export function preflightHeaders(request: IncomingHttpHeaders): OutgoingHttpHeaders {
  const origin = request.origin;
  const headers: OutgoingHttpHeaders = { 'content-length': '0' };
  if (origin === undefined) return headers;
  headers['access-control-allow-origin'] = origin;
  const method = request['access-control-request-method'];
  if (method) headers['access-control-allow-methods'] = method;
  const asked = request['access-control-request-headers'];
  if (asked) headers['access-control-allow-headers'] = asked;
  headers['access-control-allow-credentials'] = 'true';
  headers['access-control-max-age'] = String(preflightMaxAgeSeconds);
  headers.vary = asked ? 'Origin, Access-Control-Request-Headers' : 'Origin';
  return headers;
}

/**
 * Adds the CORS headers of a decision to an answer's headers: the origin allowed (with Vary:
 * Origin), or Vary: Origin alone; nothing for a request without Origin. Vary keeps what the answer
 * varies by, after Origin. Set on the answer's own object, whose headers are made for this request.
 */
export function addAllowance(headers: OutgoingHttpHeaders, decision: OriginDecision): void {
  if (decision.kind === 'no-origin') return;
  const vary = headers.vary;
  headers.vary =
    typeof vary !== 'string' || vary === '' ? 'Origin' : /\borigin\b/i.test(vary) ? vary : `Origin, ${vary}`;
  if (decision.kind === 'denied') return;
  headers['access-control-allow-origin'] = decision.allowOrigin;
  headers['access-control-allow-credentials'] = 'true';
}
