// The REST shim: the documented /api/orgs/{orgId}/config endpoints, translated to the config service.
import type { Actor } from '../auth/actor.ts';
import {
  ConfigValidationError,
  ForbiddenError,
  OrgNotFoundError,
  UnauthenticatedError,
  VersionConflictError,
} from '../config/errors.ts';
import { legacyJson, parseLegacyPatch } from '../config/legacy.ts';
import type { OrgConfig } from '../config/model.ts';
import type { ConfigService } from '../config/service.ts';
import { actorOf } from '../http/api-key-auth.ts';
import { Response } from '../http/fetch-api.ts';
import { readJsonBody } from './body.ts';
import { encodedResponse, Representation } from './encoding.ts';
import { bodyLimitBytes } from './limits.ts';
import { openApiDocument } from './openapi.ts';
import { etagOf, ifMatchFails, noneMatchFails } from './preconditions.ts';
import { problemResponse, toRestProblem } from './problem.ts';

const configPath = /^\/api\/orgs\/([^/]+)\/config(\/history)?\/?$/;
const allowedMethods = 'GET, HEAD, PUT, POST, PATCH';
/** The media type each write method takes. PATCH is a JSON merge patch (RFC 7396); on a flat object it is a partial PUT. */
const writeMediaTypes: Record<string, readonly string[]> = {
  PUT: ['application/json'],
  POST: ['application/json'],
  PATCH: ['application/merge-patch+json', 'application/json'],
};

export interface RestDeps {
  readonly service: ConfigService;
  /** Where unexpected failures go; the client only hears "Unexpected error.". */
  readonly logError: (error: unknown) => void;
}

/**
 * The legacy JSON of a configuration, serialised (and compressed) once per version: configurations
 * are immutable, and the read cache hands out the same object until the next change.
 */
const representations = new WeakMap<OrgConfig, Representation>();

export function representationOf(config: OrgConfig): Representation {
  let representation = representations.get(config);
  if (!representation) {
    representation = Representation.of(legacyJson(config.settings));
    representations.set(config, representation);
  }
  return representation;
}

function configResponse(request: Request, config: OrgConfig): Response {
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    etag: etagOf(config.version),
    'cache-control': 'private, no-cache',
  };
  return encodedResponse(request, 200, request.method === 'HEAD' ? '' : representationOf(config), headers);
}

let openApi: Representation | undefined;

/** The OpenAPI document never changes while the process runs: serialised (and compressed) once. */
function openApiRepresentation(): Representation {
  openApi ??= Representation.of(JSON.stringify(openApiDocument));
  return openApi;
}

/** The domain's expected failures as HTTP answers; anything else is logged and answered 500, masked. */
function failureResponse(error: unknown, logError: RestDeps['logError']): Response {
  if (error instanceof UnauthenticatedError) {
    return problemResponse(401, 'UNAUTHENTICATED', error.message, {
      headers: { 'www-authenticate': 'ApiKey header="x-api-key"' },
    });
  }
  if (error instanceof ForbiddenError) return problemResponse(403, 'FORBIDDEN', error.message);
  if (error instanceof OrgNotFoundError) return problemResponse(404, 'NOT_FOUND', error.message);
  if (error instanceof ConfigValidationError) {
    return problemResponse(422, 'VALIDATION_FAILED', 'the body breaks the rules below; nothing was written', {
      problems: error.problems.map(toRestProblem),
    });
  }
  // The REST door only ever names a version through If-Match or If-None-Match.
  if (error instanceof VersionConflictError) return preconditionFailed(error.currentVersion);
  logError(error);
  return problemResponse(500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
}

function preconditionFailed(currentVersion: number): Response {
  return problemResponse(
    412,
    'VERSION_MISMATCH',
    `the precondition does not hold for the current version ${etagOf(currentVersion)}; nothing was written`,
    {
      headers: { etag: etagOf(currentVersion) },
    },
  );
}

/** GET .../config/history?limit=N&before=V: revisions newest first, for admin keys. */
async function history(
  request: Request,
  url: URL,
  deps: RestDeps,
  actor: Actor | null,
  orgId: string,
): Promise<Response> {
  const limit = url.searchParams.get('limit') ?? '20';
  const before = url.searchParams.get('before');
  if (!/^\d+$/.test(limit) || (before !== null && !/^\d+$/.test(before))) {
    deps.service.authorizeAdmin(actor, orgId);
    return problemResponse(400, 'INVALID_QUERY', 'limit and before must be whole numbers');
  }
  const page = await deps.service.history(actor, orgId, {
    first: Number(limit),
    beforeVersion: before === null ? null : Number(before),
  });
  const body = {
    revisions: page.revisions.map(
      ({ version, changedAt, actor: author, door, revertedToVersion, changes }) => ({
        version,
        changedAt: changedAt.toISOString(),
        actor: author,
        door,
        revertedToVersion: revertedToVersion ?? null,
        changes: changes.map(({ legacyKey, path, before: old, after }) => ({
          key: legacyKey,
          path,
          before: old,
          after,
        })),
      }),
    ),
    nextBefore: page.hasMore ? page.revisions.at(-1)!.version : null,
  };
  return encodedResponse(request, 200, JSON.stringify(body), {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'private, no-cache',
  });
}

async function read(request: Request, deps: RestDeps, actor: Actor | null, orgId: string): Promise<Response> {
  const config = await deps.service.get(actor, orgId);
  if (noneMatchFails(request.headers.get('if-none-match'), config.version)) {
    return new Response(null, {
      status: 304,
      headers: {
        etag: etagOf(config.version),
        'cache-control': 'private, no-cache',
        vary: 'accept-encoding',
      },
    });
  }
  return configResponse(request, config);
}

/**
 * Checks If-Match and If-None-Match before the body is read; answers the version the write must
 * still find (the store checks it again in its transaction), or null when the request names none.
 */
async function requiredVersion(
  request: Request,
  deps: RestDeps,
  actor: Actor | null,
  orgId: string,
): Promise<number | null> {
  const ifMatch = request.headers.get('if-match');
  const ifNoneMatch = request.headers.get('if-none-match');
  if (ifMatch === null && ifNoneMatch === null) return null;
  const current = await deps.service.get(actor, orgId);
  if (ifMatchFails(ifMatch, current.version) || noneMatchFails(ifNoneMatch, current.version)) {
    throw new VersionConflictError(current.version, current.version);
  }
  return current.version;
}

async function write(
  request: Request,
  deps: RestDeps,
  actor: Actor | null,
  orgId: string,
): Promise<Response> {
  // Refuse callers who may not write before looking at what they sent.
  deps.service.authorizeAdmin(actor, orgId);
  const mediaTypes = writeMediaTypes[request.method]!;
  const contentType = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (!mediaTypes.includes(contentType)) {
    return problemResponse(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `send the body as ${mediaTypes.join(' or ')}, not "${contentType || 'no content type'}"`,
      {
        headers: { 'accept-patch': 'application/merge-patch+json' },
      },
    );
  }
  const expectedVersion = await requiredVersion(request, deps, actor, orgId);
  const body = await readJsonBody(request, bodyLimitBytes);
  if (!body.ok) {
    return body.reason === 'too-large'
      ? problemResponse(413, 'PAYLOAD_TOO_LARGE', body.detail, { headers: { connection: 'close' } })
      : problemResponse(400, body.reason === 'empty' ? 'EMPTY_BODY' : 'INVALID_JSON', body.detail);
  }
  if (body.value === null || typeof body.value !== 'object' || Array.isArray(body.value)) {
    return problemResponse(
      400,
      'NOT_AN_OBJECT',
      'the body must be a JSON object of settings, the shape GET returns',
    );
  }
  const parsed = parseLegacyPatch(body.value as Record<string, unknown>);
  if (!parsed.ok) throw new ConfigValidationError(parsed.problems);
  const { config } = await deps.service.update(actor, {
    orgId,
    patch: parsed.patch,
    expectedVersion,
    door: 'rest',
  });
  return configResponse(request, config);
}

/** Answers a request under /api/, or null when the path is not the REST API's. */
export async function handleRestRequest(
  request: Request,
  url: URL,
  deps: RestDeps,
): Promise<Response | null> {
  if (url.pathname === '/api/openapi.json') {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return problemResponse(
        405,
        'METHOD_NOT_ALLOWED',
        `${request.method} is not supported here; use GET, HEAD`,
        { headers: { allow: 'GET, HEAD' } },
      );
    }
    return encodedResponse(request, 200, openApiRepresentation(), {
      'content-type': 'application/json; charset=utf-8',
    });
  }
  const match = configPath.exec(url.pathname);
  if (!match)
    return url.pathname.startsWith('/api/')
      ? problemResponse(404, 'NOT_FOUND', `no such endpoint: ${url.pathname}`)
      : null;
  let orgId: string;
  try {
    orgId = decodeURIComponent(match[1]!);
  } catch {
    return problemResponse(404, 'NOT_FOUND', `no such endpoint: ${url.pathname}`);
  }
  const method = request.method.toUpperCase();
  const isHistory = match[2] !== undefined;
  const allowed = isHistory ? 'GET, HEAD' : allowedMethods;
  if (!allowed.split(', ').includes(method)) {
    return problemResponse(405, 'METHOD_NOT_ALLOWED', `${method} is not supported here; use ${allowed}`, {
      headers: { allow: allowed },
    });
  }
  try {
    // Authenticated (and rate limited) on the way in, by useApiKeyAuth.
    const actor = actorOf(request) ?? null;
    if (isHistory) return await history(request, url, deps, actor, orgId);
    return method === 'GET' || method === 'HEAD'
      ? await read(request, deps, actor, orgId)
      : await write(request, deps, actor, orgId);
  } catch (error) {
    return failureResponse(error, deps.logError);
  }
}
