// GET /widget/{orgId}/config?key=pk_…: the public settings for a CDN to cache, serialised once per
// version, from memory (the per-organisation cache). A request's method, path, headers and the
// edge's Actor in (the edge read the key from ?key=, refusing a secret there unread), an answer out
// (or undefined: not this door's path). A door behind the edge (widgetSnapshotAnswerer).
import { createHash } from 'node:crypto';
import type { Actor } from '../auth/actor.ts';
import type { OrgConfig } from '../config/model.ts';
import { publicSettings } from '../config/visibility.ts';
import { type Answer, type Answerer, problemAnswer } from '../edge/edge.ts';
import type { ConfigStore } from '../store/config-store.ts';
import { keyGiven, widgetRefusal } from './widget-access.ts';

export interface SnapshotSettings {
  /** Cache-Control max-age, seconds: how long a CDN or browser serves it without asking. */
  readonly maxAgeSeconds: number;
  /** Cache-Control stale-while-revalidate, seconds: how long a stale copy is served while refreshed. */
  readonly staleWhileRevalidateSeconds: number;
}

export const defaultSnapshotSettings: SnapshotSettings = {
  maxAgeSeconds: 60,
  staleWhileRevalidateSeconds: 600,
};

export interface SnapshotRequest {
  readonly method: string;
  /** The path, without the query: "/widget/demo/config". */
  readonly path: string;
  /** The If-None-Match header, if any. */
  readonly ifNoneMatch: string | undefined;
  /** The edge's actor: of ?key=pk_… (or of x-api-key, where a secret key is the wrong kind); null for none or an unknown key. */
  readonly actor: Actor | null;
  /** Whether the request named a key at all: an unknown one answers as an unknown organisation. */
  readonly keyGiven: boolean;
}

const snapshotPath = /^\/widget\/([A-Za-z0-9][A-Za-z0-9._-]{0,63})\/config$/;

/** The body and strong ETag of a configuration's snapshot, made once per version (configs are immutable). */
interface Serialised {
  readonly body: Buffer;
  readonly etag: string;
}

/** Whether If-None-Match names this ETag (weak comparison, as RFC 9110 wants for If-None-Match), or is `*`. */
function noneMatch(header: string | null | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/**
 * The snapshot door. `store` is the gateway's cached store: configurations and keys come from
 * memory after their first read. Everything about the key is settled before the organisation is
 * looked at, and every refusal about it answers the same 404 as an unknown organisation.
 */
export function snapshotAnswerer(store: ConfigStore, settings: SnapshotSettings = defaultSnapshotSettings) {
  /** One serialisation per configuration object: the cache holds one per organisation, its current one. */
  const serialised = new WeakMap<OrgConfig, Serialised>();
  const cacheControl = `public, max-age=${settings.maxAgeSeconds}, stale-while-revalidate=${settings.staleWhileRevalidateSeconds}`;

  function serialise(config: OrgConfig): Serialised {
    let made = serialised.get(config);
    if (!made) {
      const text = JSON.stringify({
        orgId: config.orgId,
        version: config.version,
        settings: publicSettings(config.settings),
      });
      const body = Buffer.from(text);
      // Strong: the same bytes, the same tag, on every replica.
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      made = { body, etag };
      serialised.set(config, made);
    }
    return made;
  }

  /** The answer from the organisation's current configuration (the edge leaves out the body of HEAD). */
  function answerWith(config: OrgConfig, request: SnapshotRequest): Answer {
    const { body, etag } = serialise(config);
    // Vary: Origin even without one, so a cache never hands a browser an answer made for no Origin.
    if (noneMatch(request.ifNoneMatch, etag))
      return { status: 304, headers: { etag, 'cache-control': cacheControl, vary: 'Origin' } };
    return {
      status: 200,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        etag,
        'cache-control': cacheControl,
        vary: 'Origin',
      },
      body,
    };
  }

  /** The answer, or undefined (not this door's path); at once when the cache holds the configuration. */
  return function answer(request: SnapshotRequest): Answer | undefined | Promise<Answer> {
    const match = snapshotPath.exec(request.path);
    if (!match)
      return request.path.startsWith('/widget/')
        ? problemAnswer(404, 'NOT_FOUND', 'no such endpoint')
        : undefined;
    const orgId = match[1]!;
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return problemAnswer(
        405,
        'METHOD_NOT_ALLOWED',
        `${request.method} is not supported here; use GET, HEAD`,
        {
          headers: { allow: 'GET, HEAD' },
        },
      );
    const refused = widgetRefusal(request.actor, request.keyGiven, orgId);
    if (refused) return problemAnswer(refused.status, refused.code, refused.detail);
    const cached = store.peekConfig?.(orgId);
    if (cached) return answerWith(cached, request);
    return store
      .getConfig(orgId)
      .then((config) =>
        config
          ? answerWith(config, request)
          : problemAnswer(404, 'NOT_FOUND', `organisation "${orgId}" not found`),
      );
  };
}

export type SnapshotAnswerer = ReturnType<typeof snapshotAnswerer>;

/**
 * The snapshot as a door behind the edge (after the request id, limits and the key step, which
 * refused an expired key and a secret in the URL): answers /widget/ requests, and passes on
 * everything else at once.
 */
export function widgetSnapshotAnswerer(answer: SnapshotAnswerer): Answerer {
  return (request) => {
    if (!request.path.startsWith('/widget/')) return undefined;
    request.door = 'widget';
    const { req } = request;
    return answer({
      method: req.method ?? 'GET',
      path: request.path,
      ifNoneMatch: req.headers['if-none-match'],
      actor: request.actor,
      keyGiven: keyGiven(request),
    });
  };
}
