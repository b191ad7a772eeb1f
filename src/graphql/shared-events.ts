// Fan-out: a change is executed once per distinct selection, not once per subscriber. Subscribers
// of orgConfigChanged with the same document, variables and role get the same result object for
// the same revision (and the same bytes: see sse-event-ids.ts and websocket.ts). A door that can
// write an event at once attaches to its subscription: live events then go from the change feed to
// its socket in one synchronous loop over the subscribers, with no async step for each.
import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Revision } from '../config/revision.ts';
import type { ChangeEvents, RevisionStream } from '../events/change-feed.ts';
import type { Context } from './context.ts';

/** The revision streams orgConfigChanged's subscribe made, by the context of the operation. */
const sources = new WeakMap<object, RevisionStream>();

/** Called by orgConfigChanged's subscribe with the stream it answers. */
export function rememberEventSource(context: object, stream: RevisionStream): RevisionStream {
  sources.set(context, stream);
  return stream;
}

/**
 * Writes one event to a door's client at once; false when it cannot now (its client is behind, or
 * gone), and the event then takes the ordinary way, through the operation's result stream.
 */
export type DirectSink = (result: ExecutionResult) => boolean;

/** The live subscriptions, by their context's request (SSE) or by their context (WebSocket), for the doors to attach to. */
const subscriptions = new WeakMap<object, SharedResults>();

/**
 * A door's own writer for the events of the operation of this request (SSE) or context (WebSocket).
 * False when the operation is not one whose events are shared: it is then served as before.
 */
export function attachDirectSink(operation: object, sink: DirectSink): boolean {
  const subscription = subscriptions.get(operation);
  if (!subscription) return false;
  subscriptions.delete(operation);
  return subscription.attach(sink);
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
      definition.kind === Kind.OPERATION_DEFINITION &&
      (!args.operationName || definition.name?.value === args.operationName),
  );
}

async function executeOwn(args: ExecutionArgs, revision: Revision): Promise<ExecutionResult> {
  return execute({ ...args, rootValue: revision });
}

async function resultOf(
  args: ExecutionArgs,
  key: string | null,
  revision: Revision,
): Promise<ExecutionResult> {
  const { actor, service } = args.contextValue as Context;
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

/** A revision made ready for the subscribers attached to a door: the results without errors, and the keys still valid. */
interface PreparedRevision {
  readonly results: WeakMap<DocumentNode, Map<string, ExecutionResult>>;
  /** Hashes of the subscribers' API keys found valid as the revision was prepared. */
  readonly validKeys: Set<string>;
}

/**
 * The shared events of one gateway: its plugin, and the subscriptions a door has attached to, by
 * organisation, document and selection. Before the change feed hands a revision to an
 * organisation's subscriptions, each of their selections is executed once and each of their keys
 * checked once; each subscription then takes its event synchronously (SharedResults.take), or,
 * when anything is not ready, the ordinary way.
 */
export class SharedSubscriptionEvents {
  /** Events the doors wrote straight to their clients (for tests and metrics). */
  directDeliveries = 0;
  private readonly byOrg = new Map<
    string,
    Map<DocumentNode, Map<string, Set<SharedResults & { key: string }>>>
  >();
  private readonly prepared = new WeakMap<Revision, PreparedRevision>();

  constructor(events: ChangeEvents) {
    events.beforeDelivery((revision) =>
      this.byOrg.has(revision.orgId) ? this.prepare(revision) : undefined,
    );
  }

  add(subscription: SharedResults & { key: string }): void {
    let byDocument = this.byOrg.get(subscription.orgId);
    if (!byDocument) this.byOrg.set(subscription.orgId, (byDocument = new Map()));
    let byKey = byDocument.get(subscription.document);
    if (!byKey) byDocument.set(subscription.document, (byKey = new Map()));
    let members = byKey.get(subscription.key);
    if (!members) byKey.set(subscription.key, (members = new Set()));
    members.add(subscription);
  }

  remove(subscription: SharedResults & { key: string }): void {
    const byDocument = this.byOrg.get(subscription.orgId);
    const byKey = byDocument?.get(subscription.document);
    const members = byKey?.get(subscription.key);
    if (!byDocument || !byKey || !members?.delete(subscription)) return;
    if (members.size === 0) byKey.delete(subscription.key);
    if (byKey.size === 0) byDocument.delete(subscription.document);
    if (byDocument.size === 0) this.byOrg.delete(subscription.orgId);
  }

  /** The subscription is set up as before (same checks, same errors); only the events take the shared path. */
  plugin(): Plugin {
    return {
      onSubscribe: ({ subscribeFn, setSubscribeFn }) => {
        setSubscribeFn(async (args) => {
          const results = await subscribeFn(args);
          const context = args.contextValue as Context;
          const source = sources.get(context);
          if (!source || !(Symbol.asyncIterator in Object(results))) return results;
          sources.delete(context);
          const subscription = new SharedResults(
            args as ExecutionArgs,
            source,
            (results as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator](),
            this,
          );
          subscriptions.set(context.request ?? context, subscription);
          return subscription;
        });
      },
    };
  }

  preparedFor(revision: Revision): PreparedRevision | undefined {
    return this.prepared.get(revision);
  }

  private async prepare(revision: Revision): Promise<void> {
    const groups = this.byOrg.get(revision.orgId);
    if (!groups) return;
    // Each key once, then each selection once, executed as a member whose key is still valid.
    const holders = new Map<string, SharedResults>();
    for (const byKey of groups.values()) {
      for (const members of byKey.values())
        for (const member of members)
          if (member.keyHash !== null && !holders.has(member.keyHash)) holders.set(member.keyHash, member);
    }
    const validKeys = new Set<string>();
    await Promise.all(
      [...holders].map(([hash, member]) => {
        const { actor, service } = member.args.contextValue as Context;
        return service.assertStillValid(actor).then(
          () => void validKeys.add(hash),
          () => undefined,
        );
      }),
    );
    const prepared: PreparedRevision = { results: new WeakMap(), validKeys };
    const executions: Promise<void>[] = [];
    for (const [document, byKey] of groups) {
      const results = new Map<string, ExecutionResult>();
      prepared.results.set(document, results);
      for (const [key, members] of byKey) {
        // Any member stands for its selection: the result depends on nothing else (selectionKey).
        let stand: SharedResults | undefined;
        for (const member of members) {
          if (member.keyHash !== null && !validKeys.has(member.keyHash)) continue;
          stand = member;
          break;
        }
        if (stand)
          executions.push(
            resultOf(stand.args, key, revision).then(
              (result) => void (result.errors ? undefined : results.set(key, result)),
            ),
          );
      }
    }
    await Promise.all(executions);
    this.prepared.set(revision, prepared);
  }
}

/**
 * The results of one subscriber: its own revision stream, each event executed once per distinct
 * selection. Ending it (the client left) ends the stream the executor set up, which ends the source.
 * Once a door has attached, the live events it can take skip the stream (take).
 */
class SharedResults implements AsyncIterableIterator<ExecutionResult> {
  readonly orgId: string;
  readonly document: DocumentNode;
  readonly key: string | null;
  /** The subscriber's API key, checked at each event; null for the operator. */
  readonly keyHash: string | null;
  private readonly events: AsyncIterator<Revision>;
  /** A next() is waiting for the stream: every earlier event has been handed to the door. */
  private waiting = false;
  private sink: DirectSink | null = null;
  private ended = false;

  constructor(
    readonly args: ExecutionArgs,
    private readonly source: RevisionStream,
    private readonly original: AsyncIterator<ExecutionResult>,
    private readonly selections: SharedSubscriptionEvents,
  ) {
    this.orgId = source.orgId;
    this.document = args.document;
    this.key = selectionKey(args);
    const { actor } = args.contextValue as Context;
    this.keyHash = actor?.kind === 'apiKey' ? actor.keyHash : null;
    this.events = source[Symbol.asyncIterator]();
  }

  /** A door writes this subscription's live events itself from now on, when it can (see DirectSink). */
  attach(sink: DirectSink): boolean {
    if (!this.isShared() || this.ended) return false;
    this.sink = sink;
    this.selections.add(this);
    this.source.offerFirst((revision) => this.take(revision));
    return true;
  }

  /** Delivers a live revision at once when its shared result and this key's check are ready; false otherwise. */
  private take(revision: Revision): boolean {
    if (!this.sink || !this.waiting || this.ended) return false;
    const prepared = this.selections.preparedFor(revision);
    if (!prepared || (this.keyHash !== null && !prepared.validKeys.has(this.keyHash))) return false;
    const result = prepared.results.get(this.document)?.get(this.key!);
    if (result === undefined || !this.sink(result)) return false;
    this.selections.directDeliveries += 1;
    return true;
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    let event: IteratorResult<Revision>;
    this.waiting = true;
    try {
      event = await this.events.next();
    } catch (error) {
      // As the executor reports a failing event stream.
      this.end();
      await this.original.return?.();
      throw new GraphQLError((error as Error).message, {
        originalError: error as Error,
        nodes: operationOf(this.args),
      });
    } finally {
      this.waiting = false;
    }
    if (event.done) {
      this.end();
      await this.original.return?.();
      return { done: true, value: undefined };
    }
    try {
      return { done: false, value: await resultOf(this.args, this.key, event.value) };
    } catch (error) {
      // Not every consumer ends a stream whose next() failed (graphql-ws does not): end it here.
      await this.finish();
      throw error;
    }
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    await this.finish();
    return { done: true, value: undefined };
  }

  async throw(error: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.finish();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private isShared(): this is SharedResults & { key: string } {
    return this.key !== null;
  }

  private end(): void {
    this.ended = true;
    if (this.sink && this.isShared()) this.selections.remove(this);
    this.sink = null;
  }

  private async finish(): Promise<void> {
    this.end();
    await this.original.return?.();
    await this.events.return?.();
  }
}
