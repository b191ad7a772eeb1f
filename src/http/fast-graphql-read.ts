// The GraphQL read fast path: a POSTed query that only reads the caller's own configuration, answered
// on node:http by its compiled read plan (graphql/read-plans.ts), without the fetch-API adapter and
// yoga's request pipeline; a body seen before, for an unchanged configuration, gets the bytes made
// last time (known-reads.ts), found first as the last read of the caller's key, then by its text.
// A plain update has its own plan and answer (fast-graphql-update.ts).
// Anything else goes on to yoga, with the body already read.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { actorOfKey, hashApiKey } from '../auth/api-keys.ts';
import type { Gateway } from '../gateway.ts';
import type { Context } from '../graphql/context.ts';
import { operationKey, orgIdsRead, type UpdatePlan } from '../graphql/read-plans.ts';
import { type UpdateStage, unexpectedFailure, updateAnswerer } from './fast-graphql-update.ts';
import {
  admittedByGuard,
  isRecord,
  keyRecordOf,
  plainOrigin,
  readBody,
  writeGraphQLAnswer,
} from './fast-path-checks.ts';
import { type KnownRead, KnownReads } from './known-reads.ts';
import { requestIdFrom } from './request-log.ts';

/** Bodies the fast path reads itself; a widget's query is a few hundred bytes. */
const largestBody = 16_384;

/** The Content-Type yoga answers for each Accept the fast path takes; any other Accept is yoga's. */
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

interface GraphQLParams {
  query: string;
  operationName: string | undefined;
  variables: Record<string, unknown>;
}

/** The request's query, operation name and variables; undefined for anything unusual (extensions, say). */
function paramsOf(body: string): GraphQLParams | undefined {
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
 * Wraps a listener (the gateway, or another fast path) so that GraphQL reads with a read plan are
 * answered here with the bytes and headers yoga would send, the same request log line and the same
 * rate limits. The answer is the plan's result only when it has no errors; errors, unknown or uncached
 * keys, other organisations and operations yoga has not yet run are all answered by yoga.
 */
export function withFastGraphQLRead(gateway: Gateway, next: RequestListener = gateway): RequestListener {
  const { cache, guard, logger, readPlans, service } = gateway;
  const knownReads = new KnownReads();

  /** A plain update and its variables: never remembered (each body is another change) nor answered from memory. */
  interface KnownUpdate {
    readonly update: UpdatePlan;
    readonly variables: Record<string, unknown>;
  }

  /** What a body asks, from memory or parsed and matched to its plan; undefined when yoga must answer. */
  function readOf(req: IncomingMessage, text: string): KnownRead | KnownUpdate | undefined {
    const known = knownReads.get(text);
    if (known) return known;
    const params = paramsOf(text);
    if (!params) return undefined;
    const operation = operationKey(params.query, params.operationName);
    const plan = readPlans.get(operation);
    if (plan === undefined) readPlans.learnFrom(req, operation);
    if (!plan) return undefined;
    if (plan.kind === 'update') return { update: plan, variables: params.variables };
    const orgIds = orgIdsRead(plan, params.variables);
    if (!orgIds || orgIds.some((orgId) => orgId !== orgIds[0])) return undefined;
    const read = { body: text, variables: params.variables, plan, orgId: orgIds[0]! };
    return knownReads.remember(read) ?? read;
  }

  const answerUpdate = updateAnswerer(gateway);

  /** Resolves true once it has answered; false (before touching the response) when yoga must. */
  async function answer(
    req: IncomingMessage,
    res: ServerResponse,
    key: string,
    answerType: string,
    body: Buffer,
    startedAt: number,
    stage: UpdateStage,
  ): Promise<boolean> {
    const text = body.toString('utf8');
    const keyHash = hashApiKey(key.trim());
    const cachedKey = cache.peekApiKey(keyHash);
    const lastRead = cachedKey && knownReads.lastOf(cachedKey, text);
    const read = lastRead ?? readOf(req, text);
    if (!read) return false;
    if ('update' in read) {
      const requestId = (stage.requestId = requestIdFrom(req.headers['x-request-id'] as string | undefined));
      const answered = await answerUpdate(req, read.update, read.variables, keyHash, requestId, stage);
      if (!answered) return false;
      if (!res.headersSent && !res.writableEnded)
        writeGraphQLAnswer(logger, req, res, answerType, requestId, answered, startedAt);
      return true;
    }
    const record = cachedKey ?? (await keyRecordOf(cache, guard, req, keyHash));
    if (!record) return false;
    // A key's last read was checked against the key when it was kept.
    if (read !== lastRead) {
      if (record.orgId !== read.orgId) return false;
      knownReads.keepLast(record, read);
    }
    const actor = actorOfKey(record, keyHash);
    const kept = read.answer;
    let payload: Buffer;
    if (kept && kept.slot.current === kept.config && kept.role === record.role) {
      payload = kept.payload;
    } else {
      const slot = cache.peekConfigSlot(read.orgId);
      const config = slot?.current;
      const context: Context = { actor, service };
      // Executed before the limits are counted: a result with errors goes to yoga, which counts it once.
      const result = await read.plan.compiled.query(undefined, context, read.variables);
      if (result.errors?.length) return false;
      payload = Buffer.from(JSON.stringify(result));
      // Kept only if made from the configuration still cached: a change may have landed meanwhile.
      if (slot && slot.current === config)
        knownReads.keepAnswer(read, { slot, config, role: record.role, payload });
    }
    if (!(await admittedByGuard(guard, req, actor))) return false;
    if (res.headersSent || res.writableEnded) return true;

    writeGraphQLAnswer(
      logger,
      req,
      res,
      answerType,
      requestIdFrom(req.headers['x-request-id'] as string | undefined),
      { status: 200, payload },
      startedAt,
    );
    return true;
  }

  return (req, res) => {
    const startedAt = performance.now();
    const { headers } = req;
    const key = headers['x-api-key'];
    const length = Number(headers['content-length']);
    const answerType = answerTypeFor(headers.accept);
    if (
      req.method !== 'POST' ||
      req.url !== '/graphql' ||
      typeof key !== 'string' ||
      !answerType ||
      (headers['content-type'] !== 'application/json' &&
        headers['content-type'] !== 'application/json; charset=utf-8') ||
      !(length > 0 && length <= largestBody) ||
      headers['transfer-encoding'] !== undefined ||
      headers['content-encoding'] !== undefined ||
      !plainOrigin(headers)
    ) {
      void next(req, res);
      return;
    }
    void readBody(req).then((body) => {
      // The client went away while sending.
      if (!body) return void res.destroy();
      // yoga's server adapter takes a body already read from `body` (as for Express's parsers).
      const toYoga = () => {
        (req as IncomingMessage & { body?: Buffer }).body = body;
        void gateway(req, res);
      };
      const stage: UpdateStage = { executed: false };
      answer(req, res, key, answerType, body, startedAt, stage).then(
        (answered) => {
          if (!answered) toYoga();
        },
        (error: unknown) => {
          // Nothing was written before anything could throw: yoga answers (and reports) it, unless
          // an update ran, which yoga would run again: that is answered here, as yoga answers a failure.
          if (!stage.executed) return toYoga();
          const requestId =
            stage.requestId ?? requestIdFrom(req.headers['x-request-id'] as string | undefined);
          logger.error({ requestId, err: error }, 'unexpected error');
          if (!res.headersSent)
            writeGraphQLAnswer(logger, req, res, answerType, requestId, unexpectedFailure, startedAt);
        },
      );
    });
  };
}
