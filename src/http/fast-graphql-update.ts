// The GraphQL update fast path: a plain updateOrgConfig mutation that yoga has run once is executed
// by its compiled plan (graphql/read-plans.ts) on node:http, from a cached admin key of the
// organisation it changes, with yoga's bytes, headers, log line and rate limits. Until it executes,
// anything else goes to yoga; once it has, it is answered here, whatever happened.
import type { IncomingMessage } from 'node:http';
import type { ExecutionResult, GraphQLError } from 'graphql';
import { actorOfKey } from '../auth/api-keys.ts';
import type { Gateway } from '../gateway.ts';
import type { Context } from '../graphql/context.ts';
import { logUnexpectedErrors, maskError } from '../graphql/error-masking.ts';
import type { UpdatePlan } from '../graphql/read-plans.ts';
import { markKeyCounted } from './api-key-auth.ts';
import { type GraphQLAnswer, isRecord } from './fast-path-checks.ts';

/** Where an update stands: once executed, it must never go to yoga, which would execute it again. */
export interface UpdateStage {
  executed: boolean;
  /** The request's id, once the update path has given it one (for the log line of a failure). */
  requestId?: string;
}

/** As yoga masks errors: with their details in development only. */
const isDev = process.env.NODE_ENV === 'development';

/** As yoga serialises a result: its errors masked (graphql/error-masking.ts), without yoga's internal extensions. */
function maskedPayload(result: ExecutionResult): Buffer {
  if (!result.errors?.length) return Buffer.from(JSON.stringify(result));
  const errors = result.errors.map((error) => {
    const masked = maskError(error, 'Unexpected error.', isDev) as GraphQLError;
    const { extensions, ...fields } = masked.toJSON();
    const { http: _http, unexpected: _unexpected, ...kept } = extensions ?? {};
    return { ...fields, extensions: Object.keys(kept).length > 0 ? kept : undefined };
  });
  return Buffer.from(JSON.stringify({ ...result, errors }));
}

/** yoga's answer to a failure outside execution: a 500 with the masked error. */
export const unexpectedFailure: GraphQLAnswer = {
  status: 500,
  payload: Buffer.from(
    JSON.stringify({
      errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    }),
  ),
};

/**
 * Executes the update and answers what yoga would: the typed result, or the masked errors of a
 * resolver that failed unexpectedly (logged, as yoga's path logs them). Undefined, before anything
 * is counted or executed, when yoga must answer: another organisation's key, an adviser's, an
 * uncached one, an input it cannot read, or a limit reached; and, with the key already counted,
 * variables that do not coerce.
 */
export function updateAnswerer(gateway: Gateway) {
  const { cache, guard, logger, service } = gateway;
  return async function answerUpdate(
    req: IncomingMessage,
    plan: UpdatePlan,
    variables: Record<string, unknown>,
    keyHash: string,
    requestId: string,
    stage: UpdateStage,
  ): Promise<GraphQLAnswer | undefined> {
    const input = variables[plan.inputVariable];
    if (!isRecord(input) || typeof input.orgId !== 'string') return undefined;
    const record = cache!.peekApiKey(keyHash);
    // A key limited to some groups is yoga's: its refusal (FORBIDDEN) is not a result this path writes.
    if (!record || record.orgId !== input.orgId || record.role !== 'admin' || record.groups) return undefined;
    if (await guard.addressThrottled(guard.clientAddress(req))) return undefined;
    const actor = actorOfKey(record, keyHash);
    // Counted once, here; yoga does not count it again if it answers after all.
    const throttled = await guard.keyThrottled(actor);
    markKeyCounted(req, record.id, throttled);
    if (throttled) return undefined;
    const context: Context = { actor, service };
    stage.executed = true;
    const result = await plan.compiled.query(undefined, context, variables);
    // A result without data is a request error, raised before execution began (the GraphQL spec,
    // "Response": data is present once execution has started): variables that do not coerce.
    // Nothing ran, and yoga refuses them with its own errors.
    if (!('data' in result) || result.data === undefined) {
      stage.executed = false;
      return undefined;
    }
    if (result.errors?.length) logUnexpectedErrors(logger, requestId, result.errors);
    return { status: 200, payload: maskedPayload(result) };
  };
}
