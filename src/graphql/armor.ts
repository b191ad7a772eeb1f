// Limits on GraphQL operations (graphql-armor and a document size cap), each refusal with a stable code.
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { GraphQLError } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

/** Documented in the README's Security section. The whole OrgConfig selected is depth 5, about 700 tokens. */
export const graphqlLimits = {
  maxDepth: 10,
  maxCost: 5_000,
  maxAliases: 15,
  maxTokens: 2_000,
  maxDirectives: 10,
  maxDocumentBytes: 16_384,
} as const;

const coded = (code: string) => [
  (_context: unknown, error: GraphQLError) => {
    // armor builds plain GraphQLErrors; give each limit its own code, as every refusal has, and the
    // status of a request error under application/graphql-response+json (200 under application/json).
    Object.assign(error.extensions as Record<string, unknown>, { code, http: { status: 400, spec: true } });
  },
];

/** The refusal of a document over the size limit, or null (HTTP and WebSocket both ask). */
export function documentTooLarge(query: string): GraphQLError | null {
  const size = Buffer.byteLength(query, 'utf8');
  if (size <= graphqlLimits.maxDocumentBytes) return null;
  return createGraphQLError(
    `the GraphQL document is ${size} bytes; the limit is ${graphqlLimits.maxDocumentBytes}`,
    {
      extensions: { code: 'DOCUMENT_TOO_LARGE', http: { status: 413 } },
    },
  );
}

export function useGraphQLLimits(): Plugin[] {
  const armor = EnvelopArmorPlugin({
    maxDepth: { n: graphqlLimits.maxDepth, onReject: coded('QUERY_TOO_DEEP') },
    costLimit: { maxCost: graphqlLimits.maxCost, onReject: coded('QUERY_TOO_COSTLY') },
    maxAliases: { n: graphqlLimits.maxAliases, onReject: coded('TOO_MANY_ALIASES') },
    maxTokens: { n: graphqlLimits.maxTokens, onReject: coded('TOO_MANY_TOKENS') },
    maxDirectives: { n: graphqlLimits.maxDirectives, onReject: coded('TOO_MANY_DIRECTIVES') },
    // No "Did you mean …?" hints: they would spell out the schema to someone without introspection.
    blockFieldSuggestion: { enabled: true },
  });
  const documentSize: Plugin = {
    onParams({ params }) {
      // A query that is not a string is yoga's to refuse (400); only measure real documents.
      if (typeof params.query !== 'string') return;
      const tooLarge = documentTooLarge(params.query);
      if (tooLarge) throw tooLarge;
    },
  };
  return [documentSize, armor as Plugin];
}
