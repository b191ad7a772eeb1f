// Expected domain failures become coded GraphQL errors; anything else is masked by yoga.
import { type ExecutionResult, GraphQLError } from 'graphql';
import { type YogaServerOptions, maskError as yogaMaskError } from 'graphql-yoga';
import {
  ConfigValidationError,
  ForbiddenError,
  InvalidArgumentError,
  OrgNotFoundError,
  StorageUnavailableError,
  UnauthenticatedError,
} from '../config/errors.ts';
import type { Logger } from '../logging.ts';
import { WebhookNotFoundError } from '../webhooks/errors.ts';

const codes = new Map<abstract new (...args: never[]) => Error, string>([
  [UnauthenticatedError, 'UNAUTHENTICATED'],
  [ForbiddenError, 'FORBIDDEN'],
  [OrgNotFoundError, 'NOT_FOUND'],
  [WebhookNotFoundError, 'NOT_FOUND'],
  // Outside mutations (which answer ValidationError), bad arguments are top-level errors.
  [ConfigValidationError, 'BAD_USER_INPUT'],
  // The database cannot write (or be reached) now: retry later. Its cause is logged (below).
  [StorageUnavailableError, 'STORAGE_UNAVAILABLE'],
  [InvalidArgumentError, 'BAD_USER_INPUT'],
]);

/** The code of a domain error, its subclasses included (VersionNotFoundError is a NOT_FOUND). */
export function codeOf(error: Error): string | undefined {
  if (error instanceof ForbiddenError) return error.code;
  for (const [type, code] of codes) if (error instanceof type) return code;
  return undefined;
}

export const maskError: NonNullable<
  NonNullable<Exclude<YogaServerOptions<object, object>['maskedErrors'], boolean>>['maskError']
> = (error, message, isDev) => {
  const original = error instanceof GraphQLError ? error.originalError : error;
  const code = original instanceof Error ? codeOf(original) : undefined;
  if (code && original instanceof Error && error instanceof GraphQLError) {
    return new GraphQLError(original.message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      extensions: { ...error.extensions, code },
    });
  }
  return yogaMaskError(error, message, isDev);
};

/**
 * Unexpected failures of an operation are logged with their cause (the client sees them masked), and
 * so are storage failures (the client sees STORAGE_UNAVAILABLE, the log says why).
 */
export function logUnexpectedErrors(logger: Logger, requestId: string, errors: readonly unknown[]): void {
  for (const error of errors) {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (original instanceof StorageUnavailableError)
      logger.error({ requestId, err: original }, 'storage unavailable');
    if (original instanceof Error && !(original instanceof GraphQLError) && !codeOf(original))
      logger.error({ requestId, err: original }, 'unexpected error');
  }
}

/** As yoga masks errors: with their details in development only. */
const isDev = process.env.NODE_ENV === 'development';

/**
 * A result executed outside yoga (by a compiled plan, plan-answerer.ts) serialised as yoga
 * serialises one: each error through the same maskError yoga is given, without yoga's internal
 * extensions (http, unexpected).
 */
export function maskedPayload(result: ExecutionResult): Buffer {
  if (!result.errors?.length) return Buffer.from(JSON.stringify(result));
  const errors = result.errors.map((error) => {
    const masked = maskError(error, 'Unexpected error.', isDev) as GraphQLError;
    const { extensions, ...fields } = masked.toJSON();
    const { http: _http, unexpected: _unexpected, ...kept } = extensions ?? {};
    return { ...fields, extensions: Object.keys(kept).length > 0 ? kept : undefined };
  });
  return Buffer.from(JSON.stringify({ ...result, errors }));
}
