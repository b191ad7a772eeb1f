// The GraphQL door's answers from compiled plans (read-plans.ts): an operation yoga has run once
// without errors, that reads the caller's own configuration or makes a plain update of it, is
// executed by its plan, without yoga's request pipeline. It comes POSTed as JSON, or, for a read,
// in the URL of a GET (GraphQL over HTTP; the widget reads so, with its key in the URL too). A read
// seen before, for an unchanged configuration, gets the bytes made last time (known-reads.ts), found
// first as the last read of the caller's key, then by its text (the body, or the GET's URL).
// Anything else passes on to yoga, body and all.
import type { ExecutionResult } from 'graphql';
import { unchangedWindow } from '../config/opening-hours.ts';
import type { ConfigService } from '../config/service.ts';
import type { Answer, Answerer, EdgeRequest } from '../edge/edge.ts';
import type { Logger } from '../logging.ts';
import type { CachedConfigStore } from '../store/cached-store.ts';
import type { Context } from './context.ts';
import { logUnexpectedErrors, maskedPayload } from './error-masking.ts';
import { type KnownRead, KnownReads } from './known-reads.ts';
import { operationKey, orgIdsRead, type ReadPlans, type UpdatePlan } from './read-plans.ts';

/** Bodies answered from plans; a widget's query is a few hundred bytes. */
const largestBody = 16_384;

/** The Content-Type yoga answers for each Accept a plan answers; any other Accept is yoga's. */
function answerTypeFor(accept: string | undefined): string | undefined {
  if (accept === undefined || accept === '' || accept === '*/*' || accept === 'application/json')
    return 'application/json; charset=utf-8';
  if (
    accept === 'application/graphql-response+json' ||
    accept.startsWith('application/graphql-response+json,')
  )
    return 'application/graphql-response+json; charset=utf-8';
  return undefined;
}

/** A JSON object (not null, not an array). */
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

interface GraphQLParams {
  query: string;
  operationName: string | undefined;
  variables: Record<string, unknown>;
}

/** A POSTed body's query, operation name and variables; undefined for anything unusual (extensions, say). */
function paramsOfBody(body: string): GraphQLParams | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed)) return undefined;
  const { query, operationName, variables, ...others } = parsed;
  if (typeof query !== 'string' || Object.keys(others).length > 0) return undefined;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string')
    return undefined;
  if (variables !== undefined && variables !== null && !isRecord(variables)) return undefined;
  return { query, operationName: operationName ?? undefined, variables: variables ?? {} };
}

/**
 * A GET's query, operation name and variables, read from its URL as yoga reads them (the first of
 * each parameter, an empty one as none; others, such as the key, ignored); undefined for anything
 * unusual (extensions, variables that are not a JSON object).
 */
function paramsOfUrl(url: string): GraphQLParams | undefined {
  const search = new URLSearchParams(url.slice(url.indexOf('?') + 1));
  const query = search.get('query');
  const variablesText = search.get('variables');
  if (!query || search.get('extensions')) return undefined;
  let variables: unknown;
  try {
    variables = variablesText ? JSON.parse(variablesText) : {};
  } catch {
    return undefined;
  }
  if (!isRecord(variables)) return undefined;
  return { query, operationName: search.get('operationName') || undefined, variables };
}

/** A plain update and its variables: never remembered (each body is another change) nor answered from memory. */
interface KnownUpdate {
  readonly update: UpdatePlan;
  readonly variables: Record<string, unknown>;
}

export interface PlanDeps {
  readonly cache: CachedConfigStore;
  readonly service: ConfigService;
  readonly readPlans: ReadPlans;
  readonly logger: Logger;
}

/** The answerer; it passes (undefined) whatever yoga must answer, before anything is executed. */
export function planAnswerer({ cache, service, readPlans, logger }: PlanDeps): Answerer {
  const knownReads = new KnownReads();

  /**
   * What a request's text (a POSTed body, or a GET's URL) asks, from memory or parsed and matched to
   * its plan; undefined when yoga must answer. A GET only reads (GraphQL over HTTP).
   */
  function readOf(request: EdgeRequest, text: string, inUrl: boolean): KnownRead | KnownUpdate | undefined {
    const known = knownReads.get(text);
    // A read whose plan was let go of is matched to its operation anew.
    if (known?.plan.compiled) return known;
    const params = inUrl ? paramsOfUrl(text) : paramsOfBody(text);
    if (!params) return undefined;
    const operation = operationKey(params.query, params.operationName);
    const plan = readPlans.get(operation);
    if (plan === undefined) readPlans.learnFrom(request.req, operation);
    if (!plan) return undefined;
    if (plan.kind === 'update') return inUrl ? undefined : { update: plan, variables: params.variables };
    const orgIds = orgIdsRead(plan, params.variables);
    if (!orgIds || orgIds.some((orgId) => orgId !== orgIds[0])) return undefined;
    return knownReads.remember({ text, inUrl, variables: params.variables, plan, orgId: orgIds[0]! });
  }

  /**
   * Executes a plain update by an admin key of the organisation it changes: the typed result, or
   * the masked errors of a resolver that failed unexpectedly. Undefined when yoga must answer
   * (another organisation, an adviser, an input it cannot read, variables that do not coerce).
   */
  async function update(request: EdgeRequest, known: KnownUpdate): Promise<Buffer | undefined> {
    const input = known.variables[known.update.inputVariable];
    const { key, actor } = request;
    if (!isRecord(input) || typeof input.orgId !== 'string') return undefined;
    if (!key || key.orgId !== input.orgId || key.role !== 'admin') return undefined;
    const context: Context = { actor, service };
    const result = (await known.update.compiled.query(
      undefined,
      context,
      known.variables,
    )) as ExecutionResult;
    // A result without data is a request error, raised before execution began (the GraphQL spec,
    // "Response": data is present once execution has started): nothing ran, and yoga refuses it.
    if (!('data' in result) || result.data === undefined) return undefined;
    request.operation = 'mutation';
    if (result.errors?.length) logUnexpectedErrors(logger, request.id, result.errors);
    return maskedPayload(result);
  }

  /**
   * A read's answer: the bytes kept for it while its configuration is unchanged (at once), or
   * executed anew.
   */
  function read(
    request: EdgeRequest,
    known: KnownRead,
    lastRead: boolean,
  ): Buffer | undefined | Promise<Buffer | undefined> {
    const key = request.key!;
    // A key's last read was checked against the key when it was kept.
    if (!lastRead) {
      if (key.orgId !== known.orgId) return undefined;
      knownReads.keepLast(key, known);
    }
    request.operation = 'query';
    const kept = known.answer;
    // Fields that change with time (openNow, workingHours) are answered for the service's time.
    const now = known.plan.timeDependent ? service.clock() : 0;
    if (
      kept &&
      kept.slot.current.version === kept.version &&
      kept.role === key.role &&
      (!kept.window || (kept.window.fromMs <= now && now < kept.window.untilMs))
    )
      return kept.payload;
    return execute(request, known, now);
  }

  /** Executes a read by its plan, and keeps the bytes for the next. */
  async function execute(request: EdgeRequest, known: KnownRead, now: number): Promise<Buffer | undefined> {
    const key = request.key!;
    // Checked by the caller, which found the read (lastOf, readOf): nothing has run since.
    const compiled = known.plan.compiled;
    if (!compiled) return undefined;
    const slot = cache.peekConfigSlot(known.orgId);
    const config = slot?.current;
    const context: Context = { actor: request.actor, service };
    const result = await compiled.query(undefined, context, known.variables);
    // A result with errors is yoga's to answer (it executes the operation again).
    if (result.errors?.length) return undefined;
    const payload = Buffer.from(JSON.stringify(result));
    // Kept only if made from the configuration still cached: a change may have landed meanwhile.
    if (slot && config && slot.current === config) {
      // An answer of time-dependent fields holds until the schedule's next change or local week.
      const window = known.plan.timeDependent
        ? unchangedWindow(config.settings.openingHours, now)
        : undefined;
      // Kept in memory of its own: a small buffer from node's pool would keep its whole slab alive.
      const kept = Buffer.allocUnsafeSlow(payload.byteLength);
      payload.copy(kept);
      knownReads.keepAnswer(known, { slot, version: config.version, role: key.role, payload: kept, window });
    }
    return payload;
  }

  return (request) => {
    const { req, key } = request;
    const answerType = answerTypeFor(req.headers.accept);
    if (!key || !answerType || request.path !== '/graphql') return undefined;
    const inUrl = req.method === 'GET';
    const text = inUrl ? req.url! : postedJson(request);
    if (text === undefined) return undefined;
    const last = knownReads.lastOf(key, text);
    const known = last ?? readOf(request, text, inUrl);
    // A text remembered from a GET's URL, POSTed as a body (not JSON), is yoga's to refuse.
    if (!known || ('inUrl' in known && known.inUrl !== inUrl)) return undefined;
    const payload = 'update' in known ? update(request, known) : read(request, known, known === last);
    // A read kept from before answers without a promise.
    return payload instanceof Promise
      ? payload.then((made) => answered(request, made, answerType))
      : answered(request, payload, answerType);
  };
}

/** A POST's JSON body as text, when plans may answer it; undefined when it is yoga's. */
function postedJson({ req, body }: EdgeRequest): string | undefined {
  const { headers } = req;
  if (
    !body ||
    req.method !== 'POST' ||
    req.url !== '/graphql' ||
    (headers['content-type'] !== 'application/json' &&
      headers['content-type'] !== 'application/json; charset=utf-8') ||
    body.byteLength > largestBody ||
    headers['content-encoding'] !== undefined
  )
    return undefined;
  return body.toString('utf8');
}

/** The edge's answer of a plan's payload; undefined (yoga's to answer) without one. */
function answered(request: EdgeRequest, payload: Buffer | undefined, answerType: string): Answer | undefined {
  if (!payload) {
    request.operation = 'none';
    return undefined;
  }
  request.planned = true;
  return { status: 200, headers: { 'content-type': answerType }, body: payload };
}
