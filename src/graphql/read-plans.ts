// Read plans: GraphQL queries that only read the caller's own configuration, and update plans: plain
// updateOrgConfig mutations, each compiled once (graphql-jit) so that the GraphQL fast path
// (http/fast-graphql-read.ts, http/fast-graphql-update.ts) can run them without yoga.
// First: graphql-jit's memoized helpers are bounded before it loads.
import './jit-memo.ts';
import type { IncomingMessage } from 'node:http';
import {
  type DocumentNode,
  type ExecutionResult,
  type FieldNode,
  getOperationAST,
  Kind,
  OperationTypeNode,
  visit,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';
import { timeDependentFields } from './org-config.ts';
import { compiledBytes, documentBytes } from './retained-size.ts';
import { schema } from './schema.ts';

/** Where a plan finds one orgConfig field's orgId: written in the document, or a variable. */
type OrgIdSource = { literal: string } | { variable: string };

export interface ReadPlan {
  readonly kind: 'read';
  /**
   * Null once the plans below have let it go: a body remembered with it (known-reads.ts) must not
   * keep a compiled query alive past the plans' bound, and is then matched to its operation anew.
   */
  compiled: CompiledQuery | null;
  readonly orgIdSources: readonly OrgIdSource[];
  /** It selects a field whose answer changes with time, not only with the version (openNow, workingHours). */
  readonly timeDependent: boolean;
}

/** Whether a document names any time-dependent field (by name, anywhere: erring on the safe side). */
function selectsTimeDependent(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(node) {
      if (timeDependentFields.has(node.name.value)) found = true;
    },
  });
  return found;
}

/** A mutation whose only root field is updateOrgConfig, with its input in one variable. */
export interface UpdatePlan {
  readonly kind: 'update';
  readonly compiled: CompiledQuery;
  /** The variable that holds the input (and so the orgId of the organisation it changes). */
  readonly inputVariable: string;
}

export type OperationPlan = ReadPlan | UpdatePlan;

/**
 * The organisations a plan reads with these variables; undefined when a variable is missing or not
 * a string (yoga then answers, with its own coercion and errors).
 */
export function orgIdsRead(
  plan: ReadPlan,
  variables: Readonly<Record<string, unknown>>,
): string[] | undefined {
  const orgIds: string[] = [];
  for (const source of plan.orgIdSources) {
    const orgId = 'literal' in source ? source.literal : variables[source.variable];
    if (typeof orgId !== 'string') return undefined;
    orgIds.push(orgId);
  }
  return orgIds;
}

/**
 * The orgId sources of an operation whose root fields are only orgConfig (aliases allowed) and
 * __typename, without directives; null for any other operation (mutations, subscriptions,
 * introspection, other fields, fragments at the root), which stays yoga's.
 */
function orgIdSourcesOf(document: DocumentNode, operationName: string | undefined): OrgIdSource[] | null {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation !== OperationTypeNode.QUERY || operation.directives?.length)
    return null;
  const sources: OrgIdSource[] = [];
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || selection.directives?.length) return null;
    if (selection.name.value === '__typename') continue;
    const source = selection.name.value === 'orgConfig' ? orgIdSourceOf(selection) : null;
    if (!source) return null;
    sources.push(source);
  }
  // A variable with a default value would need yoga's coercion to know the orgId.
  const defaulted = operation.variableDefinitions?.some((definition) => definition.defaultValue);
  return sources.length > 0 && !defaulted ? sources : null;
}

/**
 * The input variable of a mutation whose one root field is updateOrgConfig(input: $variable),
 * without directives or a default value; null for any other operation.
 */
function updateInputVariableOf(document: DocumentNode, operationName: string | undefined): string | null {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation !== OperationTypeNode.MUTATION || operation.directives?.length)
    return null;
  const [field, ...others] = operation.selectionSet.selections;
  if (
    !field ||
    others.length > 0 ||
    field.kind !== Kind.FIELD ||
    field.directives?.length ||
    field.name.value !== 'updateOrgConfig'
  )
    return null;
  const [argument, ...otherArguments] = field.arguments ?? [];
  if (
    !argument ||
    otherArguments.length > 0 ||
    argument.name.value !== 'input' ||
    argument.value.kind !== Kind.VARIABLE
  )
    return null;
  if (operation.variableDefinitions?.some((definition) => definition.defaultValue)) return null;
  return argument.value.name.value;
}

function orgIdSourceOf(field: FieldNode): OrgIdSource | null {
  const [argument, ...others] = field.arguments ?? [];
  if (!argument || others.length > 0 || argument.name.value !== 'orgId') return null;
  if (argument.value.kind === Kind.STRING) return { literal: argument.value.value };
  if (argument.value.kind === Kind.VARIABLE) return { variable: argument.value.name.value };
  return null;
}

/** The key of an operation: its name and its document text, as the client sent them. */
export function operationKey(query: string, operationName: string | undefined): string {
  return `${operationName ?? ''}\n${query}`;
}

/**
 * Plans learnt from yoga: an operation gets one only after yoga has executed it, from a request the
 * fast path handed over, without errors (an update's typed refusal is no error). So every check
 * yoga makes of a document (parsing, validation, the graphql-armor limits) has passed for that exact
 * text before the fast path runs it; what depends on the request (the key, its organisation, the
 * variables) the fast path checks each time.
 */
export class ReadPlans {
  /** null: the operation is neither a plain read of configurations nor a plain update, and stays yoga's. */
  private readonly plans = new Map<string, OperationPlan | null>();
  /** What each plan retains (retained-size.ts): its compiled form, and the document it keeps. */
  private readonly sizes = new Map<string, number>();
  private bytes = 0;
  /** Requests handed to yoga, with the key of their operation, to learn from once executed. */
  private readonly pending = new WeakMap<IncomingMessage, string>();

  private readonly updates: boolean;
  private readonly capacity: number;
  private readonly maxBytes: number;

  /**
   * @param options.updates learn update plans too (default: yes)
   * @param options.capacity operations remembered, oldest forgotten first: clients send a handful.
   * @param options.maxBytes what the plans retain, at most (retained-size.ts), oldest forgotten first.
   */
  constructor(options: { updates?: boolean; capacity?: number; maxBytes?: number } = {}) {
    this.updates = options.updates ?? true;
    this.capacity = options.capacity ?? 500;
    this.maxBytes = options.maxBytes ?? 32 * 2 ** 20;
  }

  /** The plan of an operation; null when it has none; undefined when yoga has not run it yet. */
  get(key: string): OperationPlan | null | undefined {
    return this.plans.get(key);
  }

  /** Asks to learn the operation of a request that yoga will now execute. */
  learnFrom(request: IncomingMessage, key: string): void {
    this.pending.set(request, key);
  }

  /** A yoga plugin that learns the operations of the requests handed over, once they succeed. */
  plugin(): Plugin {
    return {
      // Learnt only if yoga read the same operation as the door did. Yoga reads a GET's parameters
      // from a URL it builds with the Host header: a request could otherwise have it run another
      // operation, whose plan would then answer this one's text, for every client.
      onParams: ({ params, context }) => {
        const request = (context as { req?: IncomingMessage }).req;
        const key = request && this.pending.get(request);
        if (key !== undefined && key !== operationKey(params.query ?? '', params.operationName ?? undefined))
          this.pending.delete(request!);
      },
      onExecute: ({ args }) => {
        const request = (args.contextValue as { req?: IncomingMessage }).req;
        const key = request && this.pending.get(request);
        if (key === undefined || this.plans.has(key)) return;
        return {
          onExecuteDone: ({ result }) => {
            const succeeded =
              !(Symbol.asyncIterator in result) && !(result as ExecutionResult).errors?.length;
            if (!succeeded) return;
            const plan = this.planOf(args.document, args.operationName ?? undefined);
            // A compiled plan keeps the document (its fields' syntax nodes reach every token).
            const bytes =
              128 +
              key.length * 2 +
              (plan ? documentBytes(key, args.document) + compiledBytes(args.document) : 0);
            this.remember(key, plan, bytes);
          },
        };
      },
    };
  }

  private planOf(document: DocumentNode, operationName: string | undefined): OperationPlan | null {
    const orgIdSources = orgIdSourcesOf(document, operationName);
    const inputVariable =
      orgIdSources || !this.updates ? null : updateInputVariableOf(document, operationName);
    if (!orgIdSources && !inputVariable) return null;
    const compiled = compileQuery(schema, document, operationName);
    if (!isCompiledQuery(compiled)) return null;
    return orgIdSources
      ? { kind: 'read', compiled, orgIdSources, timeDependent: selectsTimeDependent(document) }
      : { kind: 'update', compiled, inputVariable: inputVariable! };
  }

  private remember(key: string, plan: OperationPlan | null, bytes: number): void {
    // Two requests of the same operation may finish learning it: the first one's plan stays.
    if (this.plans.has(key) || bytes > this.maxBytes) return;
    this.plans.set(key, plan);
    this.sizes.set(key, bytes);
    this.bytes += bytes;
    for (const [oldestKey, oldest] of this.plans) {
      if (this.plans.size <= this.capacity && this.bytes <= this.maxBytes) break;
      this.plans.delete(oldestKey);
      this.bytes -= this.sizes.get(oldestKey)!;
      this.sizes.delete(oldestKey);
      // Bodies remembered with it may outlive it (known-reads.ts): they keep no compiled query.
      if (oldest?.kind === 'read') oldest.compiled = null;
    }
  }
}
