// Fan-out: a change is executed once per distinct selection, not once per subscriber. Subscribers
// of orgConfigChanged with the same document, variables and role get the same result object for
// the same revision (and, over SSE, the same bytes: see sse-event-ids.ts).
import { execute, GraphQLError, Kind, type DocumentNode, type ExecutionArgs, type ExecutionResult, type OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Revision } from '../config/revision.ts';
import type { Context } from './context.ts';

/** The revision streams orgConfigChanged's subscribe made, by the context of the operation. */
const sources = new WeakMap<object, AsyncIterable<Revision>>();

/** Called by orgConfigChanged's subscribe with the stream it answers. */
export function rememberEventSource(context: object, stream: AsyncIterable<Revision>): AsyncIterable<Revision> {
  sources.set(context, stream);
  return stream;
}

/**
 * Results by revision, then document, then role, operation name and variables. The revision is the
 * object the change feed hands every live subscriber, so an entry lives as long as the fan-out of
 * that revision does. The first subscriber's execution is shared while it runs (all of them ask at
 * once); a result with errors is not shared: each subscriber then executes on its own.
 */
const shared = new WeakMap<Revision, WeakMap<DocumentNode, Map<string, Promise<ExecutionResult>>>>();

/**
 * What an event's result depends on beyond the revision and the document: the role (whether the
 * actor field is shown), the operation and the variables. Null when it must not be shared.
 */
function selectionKey(args: ExecutionArgs): string | null {
  const { actor } = args.contextValue as Context;
  if (!actor) return null;
  const role = actor.kind === 'operator' ? 'operator' : actor.role;
  return `${role}\n${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? null)}`;
}

function operationOf(args: ExecutionArgs): OperationDefinitionNode | undefined {
  return args.document.definitions.find(
    (definition): definition is OperationDefinitionNode =>
      definition.kind === Kind.OPERATION_DEFINITION && (!args.operationName || definition.name?.value === args.operationName),
  );
}

async function executeOwn(args: ExecutionArgs, revision: Revision): Promise<ExecutionResult> {
  return execute({ ...args, rootValue: revision });
}

async function resultOf(args: ExecutionArgs, revision: Revision): Promise<ExecutionResult> {
  const { actor, service } = args.contextValue as Context;
  const key = selectionKey(args);
  if (key === null) return executeOwn(args, revision);
  // Each subscriber's own check first: a revoked key executes on its own and gets its error.
  try {
    await service.assertStillValid(actor);
  } catch {
    return executeOwn(args, revision);
  }
  let byDocument = shared.get(revision);
  if (!byDocument) shared.set(revision, (byDocument = new WeakMap()));
  let byKey = byDocument.get(args.document);
  if (!byKey) byDocument.set(args.document, (byKey = new Map()));
  const running = byKey.get(key);
  if (running) {
    const result = await running;
    return result.errors ? executeOwn(args, revision) : result;
  }
  const mine = executeOwn(args, revision);
  byKey.set(key, mine);
  const result = await mine;
  if (result.errors) byKey.delete(key);
  return result;
}

/**
 * The results of one subscriber: its own revision stream, each event executed once per distinct
 * selection. Ending it (the client left) ends the stream the executor set up, which ends the source.
 */
function sharedResults(args: ExecutionArgs, source: AsyncIterable<Revision>, original: AsyncIterator<ExecutionResult>): AsyncIterableIterator<ExecutionResult> {
  const events = source[Symbol.asyncIterator]();
  const finish = async () => {
    await original.return?.();
    return events.return?.() ?? { done: true as const, value: undefined };
  };
  return {
    async next() {
      let event: IteratorResult<Revision>;
      try {
        event = await events.next();
      } catch (error) {
        // As the executor reports a failing event stream.
        await original.return?.();
        throw new GraphQLError((error as Error).message, { originalError: error as Error, nodes: operationOf(args) });
      }
      if (event.done) {
        await original.return?.();
        return { done: true, value: undefined };
      }
      return { done: false, value: await resultOf(args, event.value) };
    },
    async return() {
      await finish();
      return { done: true, value: undefined };
    },
    async throw(error: unknown) {
      await finish();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** The subscription is set up as before (same checks, same errors); only the events take the shared path. */
export function useSharedSubscriptionEvents(): Plugin {
  return {
    onSubscribe({ subscribeFn, setSubscribeFn }) {
      setSubscribeFn(async (args) => {
        const results = await subscribeFn(args);
        const source = sources.get(args.contextValue as object);
        if (!source || !(Symbol.asyncIterator in Object(results))) return results;
        sources.delete(args.contextValue as object);
        return sharedResults(args as ExecutionArgs, source, (results as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator]());
      });
    },
  };
}
