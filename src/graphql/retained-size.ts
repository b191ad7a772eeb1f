// What a parsed GraphQL document and its compiled plans retain, in bytes, counted generously: the
// memories that keep them (yoga's document cache, graphql/document-cache.ts; the read plans,
// read-plans.ts) are bounded in bytes by these counts, whatever documents clients send. The
// constants were measured in V8 on the largest documents the limits let through (armor.ts);
// test/retained-size.test.ts checks each count against V8, and test/memory-bound.test.ts the bounds
// they give against the gateway's heap.
import { type DocumentNode, Kind, type SelectionSetNode, type Token, TokenKind } from 'graphql';

/**
 * Per token of the document's text (graphql-js links every token into a list that each node's
 * location reaches): the token, and the syntax node and location it makes; measured about 510.
 */
const bytesPerToken = 640;
/** Per comment, a token of the list too, without a node: measured about 90. */
const bytesPerComment = 128;
/**
 * Per field a compiled plan executes (graphql-jit): its generated code, resolver info and closures;
 * measured about 1 KiB.
 */
const bytesPerCompiledField = 2_048;
/** Per field node merged into one it executes (the same field selected again): measured about 26. */
const bytesPerMergedNode = 64;
/** A compiled plan's own objects, whatever its fields. */
const bytesPerCompiledPlan = 16_384;

/** The parsed document's text (UTF-16 at most) and its tokens, comments, syntax nodes and locations. */
export function documentBytes(text: string, document: DocumentNode): number {
  let bytes = text.length * 2;
  for (let token: Token | null | undefined = document.loc?.startToken; token; token = token.next)
    bytes += token.kind === TokenKind.COMMENT ? bytesPerComment : bytesPerToken;
  return bytes;
}

/**
 * A compiled plan of the document (graphql-jit), at most: one per field it can execute, with every
 * fragment spread expanded where it is spread (the limits keep that under their cost), for every
 * operation of the document; fields selected again under the same response name are merged, as
 * graphql-jit merges them.
 */
export function compiledBytes(document: DocumentNode): number {
  const fragments = new Map<string, SelectionSetNode>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION)
      fragments.set(definition.name.value, definition.selectionSet);
  const expanded = new Map<string, number>();
  /** The bytes of a selection set; its fields' response names are added to `names`. */
  const bytesOf = (selectionSet: SelectionSetNode, names: Set<string>, visiting: Set<string>): number => {
    let bytes = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.alias?.value ?? selection.name.value;
        bytes += names.has(name) ? bytesPerMergedNode : bytesPerCompiledField;
        names.add(name);
        if (selection.selectionSet) bytes += bytesOf(selection.selectionSet, new Set(), visiting);
      } else if (selection.kind === Kind.INLINE_FRAGMENT)
        bytes += bytesOf(selection.selectionSet, names, visiting);
      else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        // A fragment spread within itself is refused by validation before anything is compiled.
        if (!fragment || visiting.has(name)) continue;
        // Spread again where its fields are already selected, it adds nodes only: counted in full, at most.
        let count = expanded.get(name);
        if (count === undefined) {
          visiting.add(name);
          count = bytesOf(fragment, new Set(), visiting);
          visiting.delete(name);
          expanded.set(name, count);
        }
        bytes += count;
      }
    }
    return bytes;
  };
  let bytes = bytesPerCompiledPlan;
  for (const definition of document.definitions)
    if (definition.kind === Kind.OPERATION_DEFINITION)
      bytes += bytesOf(definition.selectionSet, new Set(), new Set());
  return bytes;
}
