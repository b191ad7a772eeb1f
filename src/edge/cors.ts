// The CORS decision, as yoga's default was: any origin is echoed, with credentials; a preflight's
// method and headers are allowed as asked. Per-organisation origins would decide here.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** The CORS headers of an answer to this request; null without an Origin. A new object each time. */
export function corsHeaders(request: IncomingHttpHeaders): OutgoingHttpHeaders | null {
  const origin = request.origin;
  if (origin === undefined) return null;
  const headers: OutgoingHttpHeaders = { 'access-control-allow-origin': origin, vary: 'Origin' };
  const method = request['access-control-request-method'];
  if (method) headers['access-control-allow-methods'] = method;
  const asked = request['access-control-request-headers'];
  if (asked) {
    headers['access-control-allow-headers'] = asked;
    headers.vary = 'Origin, Access-Control-Request-Headers';
  }
  headers['access-control-allow-credentials'] = 'true';
  return headers;
}

/** An answer's headers with the CORS headers added; Vary keeps what the answer varies by, after Origin. */
export function withCors(headers: OutgoingHttpHeaders, cors: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const vary = headers.vary;
  Object.assign(headers, cors);
  if (vary) headers.vary = `${cors.vary}, ${vary}`;
  return headers;
}
