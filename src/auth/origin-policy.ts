// The per-organisation CORS decision, pure: the organisation's allowed origins and a request's
// Origin in, allow or deny out. The edge applies it (headers, Vary: Origin, ORIGIN_NOT_ALLOWED).
import { BoundedMemo } from '../bounded-memo.ts';

export type OriginDecision =
  /** No Origin header: not a browser. Origins protect browsers, not secrets: not refused for that. */
  | { readonly kind: 'no-origin' }
  /** Allow this origin: send it back as Access-Control-Allow-Origin (with Vary: Origin). */
  | { readonly kind: 'allowed'; readonly allowOrigin: string }
  /** A browser on an origin the organisation does not allow: no CORS allowance (a widget key: 403). */
  | { readonly kind: 'denied' };

const noOrigin: OriginDecision = { kind: 'no-origin' };
const denied: OriginDecision = { kind: 'denied' };

/** An origin as browsers serialise it: lowercase scheme and host, no default port, no path. */
function serialisedOrigin(origin: string): string | null {
  if (!/^https?:\/\/[^/?#\s,]+$/i.test(origin)) return null;
  try {
    return new URL(origin).origin;
  } catch {
    return null;
  }
}

/**
 * Requests' Origin headers, serialised once while remembered: a page's browser sends the same one
 * with every request, and the URL parser cost more than the rest of the decision. At most 1,024
 * origins of up to 255 characters (some 600 KB).
 */
export const requestOrigins = new BoundedMemo(serialisedOrigin, 1024, 255);

/** A list's origins as browsers serialise them, made once per list (a configuration's lists never change). */
const listedOrigins = new WeakMap<
  readonly string[],
  { readonly any: boolean; readonly origins: Set<string> }
>();

function listed(allowedOrigins: readonly string[]) {
  let made = listedOrigins.get(allowedOrigins);
  if (!made) {
    const origins = new Set<string>();
    for (const allowed of allowedOrigins) {
      const origin = serialisedOrigin(allowed);
      if (origin !== null) origins.add(origin);
    }
    made = { any: allowedOrigins.includes('*'), origins };
    listedOrigins.set(allowedOrigins, made);
  }
  return made;
}

/**
 * Whether a browser request from `origin` may read the answer of an organisation allowing
 * `allowedOrigins` ("*" allows any origin; an empty list allows none). The list holds origins as
 * the catalogue's rule keeps them (scheme://host[:port], lowercase); the Origin header is compared
 * in the same serialisation, so "https://Allowed.example:443" is "https://allowed.example".
 */
export function originDecision(
  allowedOrigins: readonly string[],
  origin: string | null | undefined,
): OriginDecision {
  if (origin === undefined || origin === null) return noOrigin;
  if (allowedOrigins.length === 0) return denied;
  const { any, origins } = listed(allowedOrigins);
  // "null" (a sandboxed frame, a file:) is no origin anyone can list: only "*" lets it in.
  if (origin === 'null') return any ? { kind: 'allowed', allowOrigin: 'null' } : denied;
  // A browser sends its origin serialised already: one listed as sent needs no parsing.
  if (origins.has(origin)) return { kind: 'allowed', allowOrigin: origin };
  const requested = requestOrigins.of(origin);
  if (requested === null) return denied;
  if (any || origins.has(requested)) return { kind: 'allowed', allowOrigin: origin };
  return denied;
}
