// Step 4's input: the one credential a request carries. A secret key travels in x-api-key; what a
// browser cannot put in a header (an EventSource, an <img>, a CDN-cached URL) travels in the query:
// a publishable key (?key=pk_…) or, to open a stream, a ticket (?ticket=st_…). Anything else in
// the query may be a secret: it is refused before any lookup (and the request log has no query).
import type { IncomingMessage } from 'node:http';
import { urlCredentials } from '../auth/url-credentials.ts';

export type RequestCredential =
  | { readonly kind: 'key'; readonly key: string | null; readonly fromUrl: boolean }
  | { readonly kind: 'ticket'; readonly ticket: string }
  | { readonly kind: 'refused'; readonly code: string; readonly message: string };

/** The request's credential: a key (header or URL; null for none), a stream ticket, or why it is refused. */
export function credentialOf(req: IncomingMessage): RequestCredential {
  const header = req.headers['x-api-key'];
  const headerKey = typeof header === 'string' ? header : null;
  const url = req.url ?? '/';
  const queryAt = url.indexOf('?');
  // Nearly every request: no query, nothing to read.
  if (queryAt < 0) return { kind: 'key', key: headerKey, fromUrl: false };
  const inUrl = urlCredentials(url.slice(queryAt + 1));
  if (inUrl.kind === 'none') return { kind: 'key', key: headerKey, fromUrl: false };
  if (inUrl.kind === 'refused') return inUrl;
  if (headerKey !== null)
    return {
      kind: 'refused',
      code: 'AMBIGUOUS_CREDENTIALS',
      message: 'pass one credential: x-api-key, ?key=pk_… or ?ticket=…',
    };
  if (inUrl.kind === 'publishable') return { kind: 'key', key: inUrl.key, fromUrl: true };
  const opensStream = req.method === 'GET' && (req.headers.accept ?? '').includes('text/event-stream');
  if (!opensStream)
    return {
      kind: 'refused',
      code: 'TICKET_FOR_STREAMS_ONLY',
      message: 'a stream ticket opens one event stream: GET with Accept: text/event-stream',
    };
  return { kind: 'ticket', ticket: inUrl.ticket };
}
