// The REST shim: the documented /api/* endpoints, one route table, answered on node:http types
// and translated to the config service. Behind the edge (edge/edge.ts), which has authenticated,
// limited and read the body of every request before it gets here.
import type { IncomingMessage } from 'node:http';
import { type Actor, isPublishable } from '../auth/actor.ts';
import {
  ConfigValidationError,
  ForbiddenError,
  OrgNotFoundError,
  StorageUnavailableError,
  UnauthenticatedError,
  VersionConflictError,
} from '../config/errors.ts';
import { fromLegacy, legacyJson, legacyValidity } from '../config/legacy.ts';
import type { OrgConfig } from '../config/model.ts';
import type { ConfigService } from '../config/service.ts';
import { publicLegacy } from '../config/visibility.ts';
import { type Answer, type Answerer, type EdgeRequest, problemAnswer } from '../edge/edge.ts';
import { configJsonSchema, configSchemaPath } from './config-schema.ts';
import { encodedAnswer, encodedAnswerLater, Representation } from './encoding.ts';
import { openApiDocument } from './openapi.ts';
import { etagOf, ifMatchFails, noneMatchFails } from './preconditions.ts';
import { storageUnavailable, toRestProblem } from './problem.ts';

/** The media type each write method takes. PATCH is a JSON merge patch (RFC 7396); on a flat object it is a partial PUT. */
const writeMediaTypes: Record<string, readonly string[]> = {
  PUT: ['application/json'],
  POST: ['application/json'],
  PATCH: ['application/merge-patch+json', 'application/json'],
};

export interface RestDeps {
  readonly service: ConfigService;
  /** Where unexpected failures go, with the request's id; the client only hears "Unexpected error.". */
  readonly logError: (error: unknown, requestId: string) => void;
  /** The time (ms) the legacy workingHours are answered for. */
  readonly clock: () => number;
}

/**
 * The legacy JSON of a configuration, serialised (and compressed) once per version: configurations
 * are immutable, and the read cache hands out the same object until the next change. Its derived
 * workingHours hold for the organisation's current local week (forever in the zone UTC): past it,
 * the JSON is made again.
 */
const representations = new WeakMap<
  OrgConfig,
  { representation: Representation; fromMs: number; untilMs: number }
>();

export function representationOf(config: OrgConfig, nowMs: number): Representation {
  const kept = representations.get(config);
  if (kept && kept.fromMs <= nowMs && nowMs < kept.untilMs) return kept.representation;
  const representation = Representation.of(legacyJson(config.settings, nowMs));
  representations.set(config, { representation, ...legacyValidity(config.settings, nowMs) });
  return representation;
}

const acceptEncodingOf = (req: IncomingMessage) => req.headers['accept-encoding'];

/** The public settings only, for publishable keys: a cache of its own, so no key reads another's answer. */
const publicRepresentations = new WeakMap<
  OrgConfig,
  { representation: Representation; fromMs: number; untilMs: number }
>();

function publicRepresentationOf(config: OrgConfig, nowMs: number): Representation {
  const kept = publicRepresentations.get(config);
  if (kept && kept.fromMs <= nowMs && nowMs < kept.untilMs) return kept.representation;
  const representation = Representation.of(JSON.stringify(publicLegacy(config.settings, nowMs)));
  publicRepresentations.set(config, { representation, ...legacyValidity(config.settings, nowMs) });
  return representation;
}

function configAnswer(req: IncomingMessage, config: OrgConfig, nowMs: number, publicOnly = false): Answer {
  const representation = publicOnly ? publicRepresentationOf(config, nowMs) : representationOf(config, nowMs);
  return encodedAnswer(acceptEncodingOf(req), 200, req.method === 'HEAD' ? '' : representation, {
    vary: 'accept-encoding',
    'content-type': 'application/json; charset=utf-8',
    etag: etagOf(config.version),
    'cache-control': 'private, no-cache',
  });
}

/**
 * The documents the REST API publishes, by path, with their media type: they never change while
 * the process runs, so each is serialised (and compressed) once, when first asked for.
 */
const documents = new Map<
  string,
  { mediaType: string; body: () => unknown; representation?: Representation }
>([
  ['/api/openapi.json', { mediaType: 'application/json', body: () => openApiDocument }],
  [configSchemaPath, { mediaType: 'application/schema+json', body: () => configJsonSchema }],
]);

/** GET of a published document: serialised (and compressed) once, when first asked for. */
function documentAnswer(request: EdgeRequest, path: string): Answer {
  const document = documents.get(path)!;
  document.representation ??= Representation.of(JSON.stringify(document.body()));
  return encodedAnswer(acceptEncodingOf(request.req), 200, document.representation, {
    vary: 'accept-encoding',
    'content-type': `${document.mediaType}; charset=utf-8`,
  });
}

/** The domain's expected failures as HTTP answers; anything else is logged and answered 500, masked. */
function failureAnswer(error: unknown, request: EdgeRequest, deps: RestDeps): Answer {
  if (error instanceof UnauthenticatedError) {
    return problemAnswer(401, 'UNAUTHENTICATED', error.message, {
      headers: { 'www-authenticate': 'ApiKey header="x-api-key"' },
    });
  }
  if (error instanceof ForbiddenError) return problemAnswer(403, error.code, error.message);
  if (error instanceof OrgNotFoundError) return problemAnswer(404, 'NOT_FOUND', error.message);
  if (error instanceof ConfigValidationError) {
    return problemAnswer(422, 'VALIDATION_FAILED', 'the body breaks the rules below; nothing was written', {
      problems: error.problems.map(toRestProblem),
    });
  }
  // The REST door only ever names a version through If-Match or If-None-Match.
  if (error instanceof VersionConflictError) return preconditionFailed(error.currentVersion);
  deps.logError(error, request.id);
  if (error instanceof StorageUnavailableError) return storageUnavailable(error);
  return problemAnswer(500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
}

function preconditionFailed(currentVersion: number): Answer {
  return problemAnswer(
    412,
    'VERSION_MISMATCH',
    `the precondition does not hold for the current version ${etagOf(currentVersion)}; nothing was written`,
    { headers: { etag: etagOf(currentVersion) } },
  );
}

/** A route's answer: at once when it needs no lookup (a read from the cache), else a promise. */
type Handler = (request: EdgeRequest, deps: RestDeps, orgId: string) => Answer | Promise<Answer>;

/** GET .../config/history?limit=N&before=V: revisions newest first, for admin keys. */
async function history(request: EdgeRequest, deps: RestDeps, orgId: string): Promise<Answer> {
  const { actor, req } = request;
  const searchParams = new URL(req.url!, 'http://gateway').searchParams;
  const limit = searchParams.get('limit') ?? '20';
  const before = searchParams.get('before');
  if (!/^\d+$/.test(limit) || (before !== null && !/^\d+$/.test(before))) {
    deps.service.authorizeAdmin(actor, orgId, 'history');
    return problemAnswer(400, 'INVALID_QUERY', 'limit and before must be whole numbers');
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
  return encodedAnswerLater(acceptEncodingOf(req), 200, JSON.stringify(body), {
    vary: 'accept-encoding',
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'private, no-cache',
  });
}

function read(request: EdgeRequest, deps: RestDeps, orgId: string): Answer | Promise<Answer> {
  // From the read cache without a promise when it holds the configuration (nearly always).
  const config = deps.service.peek(request.actor, orgId);
  if (config) return readAnswer(request.req, config, request.actor, deps.clock());
  return deps.service
    .get(request.actor, orgId)
    .then((stored) => readAnswer(request.req, stored, request.actor, deps.clock()));
}

function readAnswer(req: IncomingMessage, config: OrgConfig, actor: Actor | null, nowMs: number): Answer {
  if (noneMatchFails(req.headers['if-none-match'] ?? null, config.version)) {
    return {
      status: 304,
      headers: {
        etag: etagOf(config.version),
        'cache-control': 'private, no-cache',
        vary: 'accept-encoding',
      },
    };
  }
  return configAnswer(req, config, nowMs, isPublishable(actor));
}

/**
 * Checks If-Match and If-None-Match before the body is parsed; answers the version the write must
 * still find (the store checks it again in its transaction), or null when the request names none.
 */
async function requiredVersion(request: EdgeRequest, deps: RestDeps, orgId: string): Promise<number | null> {
  const ifMatch = request.req.headers['if-match'] ?? null;
  const ifNoneMatch = request.req.headers['if-none-match'] ?? null;
  if (ifMatch === null && ifNoneMatch === null) return null;
  const current = await deps.service.get(request.actor, orgId);
  if (ifMatchFails(ifMatch, current.version) || noneMatchFails(ifNoneMatch, current.version)) {
    throw new VersionConflictError(current.version, current.version);
  }
  return current.version;
}

/** The JSON of a body, or the problem with it. */
function parsedBody(body: Buffer | undefined): { ok: true; value: unknown } | { ok: false; answer: Answer } {
  const text = body?.toString('utf8') ?? '';
  if (text.trim() === '')
    return {
      ok: false,
      answer: problemAnswer(
        400,
        'EMPTY_BODY',
        'the body is empty; send the settings to change as a JSON object',
      ),
    };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return {
      ok: false,
      answer: problemAnswer(400, 'INVALID_JSON', `the body is not valid JSON: ${(error as Error).message}`),
    };
  }
}

async function write(request: EdgeRequest, deps: RestDeps, orgId: string): Promise<Answer> {
  const { actor, req } = request;
  // Refuse callers who may not write before looking at what they sent.
  deps.service.authorizeAdmin(actor, orgId);
  const mediaTypes = writeMediaTypes[req.method!]!;
  const contentType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (!mediaTypes.includes(contentType)) {
    return problemAnswer(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `send the body as ${mediaTypes.join(' or ')}, not "${contentType || 'no content type'}"`,
      { headers: { 'accept-patch': 'application/merge-patch+json' } },
    );
  }
  const expectedVersion = await requiredVersion(request, deps, orgId);
  const body = parsedBody(request.body);
  if (!body.ok) return body.answer;
  if (body.value === null || typeof body.value !== 'object' || Array.isArray(body.value)) {
    return problemAnswer(
      400,
      'NOT_AN_OBJECT',
      'the body must be a JSON object of settings, the shape GET returns',
    );
  }
  // Unknown keys are reported by the service, with every other problem of the body.
  const { patch, unknownKeys } = fromLegacy(body.value as Record<string, unknown>);
  const { config } = await deps.service.update(actor, {
    orgId,
    patch,
    expectedVersion,
    door: 'rest',
    doorProblems: unknownKeys,
  });
  return configAnswer(req, config, deps.clock());
}

const readOrWrite: Handler = (request, deps, orgId) =>
  request.req.method === 'GET' || request.req.method === 'HEAD'
    ? read(request, deps, orgId)
    : write(request, deps, orgId);

const openApiAnswer: Handler = (request) => documentAnswer(request, '/api/openapi.json');
const configSchemaAnswer: Handler = (request) => documentAnswer(request, configSchemaPath);

/** The REST API: each route's path, the methods it takes, and what answers it. */
const routes: readonly { path: RegExp; methods: string; handle: Handler }[] = [
  { path: /^\/api\/openapi\.json$/, methods: 'GET, HEAD', handle: openApiAnswer },
  { path: /^\/api\/config\.schema\.json$/, methods: 'GET, HEAD', handle: configSchemaAnswer },
  { path: /^\/api\/orgs\/([^/]+)\/config\/?$/, methods: 'GET, HEAD, PUT, POST, PATCH', handle: readOrWrite },
  { path: /^\/api\/orgs\/([^/]+)\/config\/history\/?$/, methods: 'GET, HEAD', handle: history },
];

/** A path as a URL parser reads it (dot segments resolved, characters escaped), taken as it is when plain. */
function pathnameOf(path: string): string {
  return /^[\w/.~%-]*$/.test(path) && !/\/\.\.?(\/|$)/.test(path)
    ? path
    : new URL(path, 'http://gateway').pathname;
}

/** The REST door: answers every request under /api/, and passes anything else on. */
export function restAnswerer(deps: RestDeps): Answerer {
  // Passes anything outside /api/ at once, and answers a read from the cache, without a promise.
  return (request) => (request.path.startsWith('/api/') ? answer(request) : undefined);

  function answer(request: EdgeRequest): Answer | Promise<Answer> {
    const pathname = pathnameOf(request.path);
    for (const route of routes) {
      const match = route.path.exec(pathname);
      if (!match) continue;
      let orgId = '';
      try {
        orgId = match[1] === undefined ? '' : decodeURIComponent(match[1]);
      } catch {
        return problemAnswer(404, 'NOT_FOUND', `no such endpoint: ${pathname}`);
      }
      const method = request.req.method!.toUpperCase();
      if (!methodsOf(route).has(method)) {
        return problemAnswer(
          405,
          'METHOD_NOT_ALLOWED',
          `${method} is not supported here; use ${route.methods}`,
          {
            headers: { allow: route.methods },
          },
        );
      }
      try {
        const answered = route.handle(request, deps, orgId);
        return answered instanceof Promise
          ? answered.catch((error: unknown) => failureAnswer(error, request, deps))
          : answered;
      } catch (error) {
        return failureAnswer(error, request, deps);
      }
    }
    return problemAnswer(404, 'NOT_FOUND', `no such endpoint: ${pathname}`);
  }
}

/** The methods of a route, as a set made once. */
const methodSets = new WeakMap<object, Set<string>>();
function methodsOf(route: { methods: string }): Set<string> {
  let methods = methodSets.get(route);
  if (!methods) methodSets.set(route, (methods = new Set(route.methods.split(', '))));
  return methods;
}
