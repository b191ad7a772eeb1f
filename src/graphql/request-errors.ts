// Request errors raised before execution: no key, and variables that do not coerce. Each is coded and
// carries the status the GraphQL-over-HTTP specification asks for application/graphql-response+json
// (yoga answers 200 under application/json, as the specification asks there).
import {
  coerceInputValue,
  type DocumentNode,
  type ExecutionArgs,
  type GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  isNonNullType,
  Kind,
  type OperationDefinitionNode,
  typeFromAST,
} from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { UnauthenticatedError } from '../config/errors.ts';
import type { Context } from './context.ts';

/** Root fields anyone may ask for: the schema is public (README, "API keys"), the data is not. */
const publicRootFields = new Set(['__schema', '__type', '__typename']);

function readsOnlyTheSchema(operation: OperationDefinitionNode): boolean {
  return operation.selectionSet.selections.every(
    (selection) => selection.kind === Kind.FIELD && publicRootFields.has(selection.name.value),
  );
}

/** A request without a valid key asks for data: refused as a whole, before anything runs. */
function unauthenticated(): GraphQLError {
  return createGraphQLError(new UnauthenticatedError().message, {
    extensions: {
      code: 'UNAUTHENTICATED',
      http: { status: 401, spec: true, headers: { 'www-authenticate': 'ApiKey header="x-api-key"' } },
    },
  });
}

/** A value as graphql-js prints it in its coercion messages, near enough: JSON, cut at 100 characters. */
function shown(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}

/** The path inside a variable, as graphql-js prints it: input.patch.workingHours.slots[0].offsetSeconds. */
function printedPath(name: string, path: readonly (string | number)[]): string {
  return name + path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${key}`)).join('');
}

/** As graphql-js: past this many, coercion stops (a 1 MiB body could hold a hundred thousand bad values). */
const maxVariableErrors = 50;

function badVariable(message: string, name: string, path: readonly (string | number)[] = []): GraphQLError {
  return createGraphQLError(message, {
    extensions: {
      code: 'BAD_USER_INPUT',
      // Where in the variables the bad value is, for programs: "$input.patch.assignment.autoAssignedLimit".
      variable: `$${printedPath(name, path)}`,
      http: { status: 400, spec: true },
    },
  });
}

/**
 * The variables' coercion errors, every one, as graphql-js words them (`Variable "$input" got invalid
 * value "x" at "input.patch.assignment.autoAssignedLimit"; …`). graphql-jit, which executes queries
 * and mutations here, coerces variables itself and names the innermost field as if it were the
 * variable (`Variable "$autoAssignedLimit"`), without a code: so graphql-js's rules judge them first.
 */
export function variableErrors(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | null | undefined,
): GraphQLError[] {
  const errors: GraphQLError[] = [];
  const given = variables ?? {};
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const type = typeFromAST(schema, definition.type as never);
    // Not an input type: validation (VariablesAreInputTypesRule) has refused the document already.
    if (!type) continue;
    if (!Object.hasOwn(given, name)) {
      if (!definition.defaultValue && isNonNullType(type))
        errors.push(badVariable(`Variable "$${name}" of required type "${type}" was not provided.`, name));
      continue;
    }
    const value = given[name];
    if (value === null && isNonNullType(type)) {
      errors.push(badVariable(`Variable "$${name}" of non-null type "${type}" must not be null.`, name));
      continue;
    }
    coerceInputValue(value, type as never, (path, invalid, error) => {
      if (errors.length >= maxVariableErrors) return;
      const where = path.length > 0 ? ` at "${printedPath(name, path)}"` : '';
      errors.push(
        badVariable(
          `Variable "$${name}" got invalid value ${shown(invalid)}${where}; ${error.message}`,
          name,
          path,
        ),
      );
    });
    if (errors.length >= maxVariableErrors) break;
  }
  return errors;
}

/** The request error of an operation about to run, or null when it may run. */
function requestErrors(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>> | null | undefined,
  context: Partial<Context>,
): GraphQLError[] | null {
  const operation = getOperationAST(document, operationName);
  // No operation to run: graphql-js (or yoga before it) refuses the request with its own error.
  if (!operation) return null;
  if (!context.actor && !readsOnlyTheSchema(operation)) return [unauthenticated()];
  const errors = variableErrors(schema, operation, variables);
  return errors.length > 0 ? errors : null;
}

/** Refuses, before execution, an operation without a key and one whose variables do not coerce. */
export function useRequestErrors(): Plugin<Context> {
  const errorsOf = (args: ExecutionArgs) =>
    requestErrors(
      args.schema,
      args.document,
      args.operationName,
      args.variableValues,
      args.contextValue as Partial<Context>,
    );
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const errors = errorsOf(args);
      if (errors) setResultAndStopExecution({ errors });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const errors = errorsOf(args);
      if (errors) setResultAndStopExecution({ errors });
    },
  };
}

/**
 * A plugin whose request refusals carry no code (yoga's CSRF prevention) with them coded: the same
 * refusal and status, and `extensions.code` as every other request error has.
 */
export function withCode<P extends Plugin>(code: string, plugin: P): P {
  const { onRequestParse } = plugin;
  if (!onRequestParse) return plugin;
  return {
    ...plugin,
    onRequestParse(payload) {
      try {
        return onRequestParse.call(plugin, payload);
      } catch (error) {
        const extensions = (error as { extensions?: Record<string, unknown> }).extensions;
        if (extensions && extensions.code === undefined) extensions.code = code;
        throw error;
      }
    },
  };
}
