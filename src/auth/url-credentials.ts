// What a URL may carry instead of x-api-key, for the requests a browser cannot add headers to
// (EventSource, the snapshot): a publishable key (?key=pk_…) or a stream ticket (?ticket=st_…).
// Anything else in ?key= may be a secret: refused without a lookup, and never logged.
import { publishablePrefix } from './api-keys.ts';
import { ticketPrefix } from './stream-tickets.ts';

export type UrlCredentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'publishable'; readonly key: string }
  | { readonly kind: 'ticket'; readonly ticket: string }
  /** Not looked up: the code and message say why, and nothing about any organisation. */
  | {
      readonly kind: 'refused';
      readonly code: 'SECRET_KEY_IN_URL' | 'AMBIGUOUS_CREDENTIALS';
      readonly message: string;
    };

/** A part of a query that URLSearchParams would decode: a percent escape, or + for a space. */
const escaped = /[%+]/;

/**
 * The values of `key` and `ticket` in a query string, decoded as URLSearchParams decodes them. Only
 * those parameters are decoded: a GraphQL GET's query and variables, the long part, are left to the
 * door that reads them.
 */
function credentialParams(query: string): { keys: string[]; tickets: string[] } {
  const keys: string[] = [];
  const tickets: string[] = [];
  // Pair by pair with indexOf: split('&') costs a call into the runtime per query, more than the rest.
  // The next '=' is looked for again only once passed, so each part of the query is read once.
  let equals = query.indexOf('=');
  for (let start = 0; start <= query.length; ) {
    const found = query.indexOf('&', start);
    const end = found < 0 ? query.length : found;
    if (equals >= 0 && equals < start) equals = query.indexOf('=', start);
    const nameEnd = equals < 0 || equals > end ? end : equals;
    let name = query.slice(start, nameEnd);
    let value = nameEnd === end ? '' : query.slice(nameEnd + 1, end);
    if (escaped.test(name) || ((name === 'key' || name === 'ticket') && escaped.test(value))) {
      // After '&': a string starting with '?' would have it dropped, which the whole query keeps.
      const decoded = new URLSearchParams(`&${query.slice(start, end)}`).entries().next().value;
      [name, value] = decoded ?? ['', ''];
    }
    if (name === 'key') keys.push(value);
    else if (name === 'ticket') tickets.push(value);
    start = end + 1;
  }
  return { keys, tickets };
}

/**
 * Whether a query may name `key` or `ticket` as URLSearchParams reads it: by name, with a value or
 * not, or escaped (only a percent escape can spell either name otherwise).
 */
const mayNameCredential = /(?:^|&)(?:key|ticket)(?:[=&]|$)|%/;

/** The none of nearly every request: its query names no credential. */
const none: UrlCredentials = { kind: 'none' };

/** The credentials of a request's query string (after the `?`). */
export function urlCredentials(query: string): UrlCredentials {
  if (!mayNameCredential.test(query)) return none;
  const { keys, tickets } = credentialParams(query);
  if (keys.length + tickets.length === 0) return none;
  if (keys.length + tickets.length > 1)
    return {
      kind: 'refused',
      code: 'AMBIGUOUS_CREDENTIALS',
      message: 'pass one credential: ?key=pk_… or ?ticket=…',
    };
  if (keys.length === 1) {
    const key = keys[0]!;
    return key.startsWith(publishablePrefix)
      ? { kind: 'publishable', key }
      : {
          kind: 'refused',
          code: 'SECRET_KEY_IN_URL',
          message:
            'only a publishable (pk_) key may be passed in a URL; a secret key goes in x-api-key, or mints a stream ticket (createStreamTicket). If a secret key was sent, revoke it',
        };
  }
  const ticket = tickets[0]!;
  return ticket.startsWith(ticketPrefix)
    ? { kind: 'ticket', ticket }
    : {
        kind: 'refused',
        code: 'SECRET_KEY_IN_URL',
        message: 'a ticket starts with st_; never put a key in ?ticket=',
      };
}
