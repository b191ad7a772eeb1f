// The counts the GraphQL memories are bounded by (src/graphql/retained-size.ts) are at least what V8
// retains for the largest documents the limits let through, and for ordinary ones; graphql-jit's
// memoized helpers keep nothing per compilation for ever (src/graphql/jit-memo.ts); the bounded
// cache forgets the least recently used entries first.
import '../src/graphql/jit-memo.ts';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type DocumentNode, parse } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { describe, expect, it } from 'vitest';
import { BytesBoundedCache } from '../src/graphql/document-cache.ts';
import { compiledBytes, documentBytes } from '../src/graphql/retained-size.ts';
import { schema } from '../src/graphql/schema.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** The heap each of `count` values made by `make` retains, measured after full collections. */
function retainedEach<T>(count: number, make: (index: number) => T): number {
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept = Array.from({ length: count }, (_, index) => make(index));
  gc();
  const bytes = process.memoryUsage().heapUsed - before;
  expect(kept).toHaveLength(count);
  return bytes / count;
}

const whole =
  'version updatedAt branding { name color } website { baseUrl allowedOrigins } assignment { autoAssignedLimit } privacy { agreementEnabled forgetMeEnabled } sla { openedConversations { range { lowerBound upperBound } } averageResponseTime { range { lowerBound } } } messages { welcome { pl en } }';

const documents: Record<string, (index: number) => string> = {
  ordinary: (index) =>
    `query Q${index}($orgId: ID!) { orgConfig(orgId: $orgId) { version branding { color } } }`,
  'comments (16 KiB)': (index) =>
    `query C${index} { orgConfig(orgId: "demo") { version } }${'\n#'.repeat(8_000)}`,
  '2,000 tokens': (index) => `query T${index} { orgConfig(orgId: "demo") { ${'version '.repeat(1_990)} } }`,
  'the whole configuration, 15 times through a fragment': (index) =>
    `fragment F on OrgConfig { ${whole} } query W${index} { ${Array.from({ length: 15 }, (_, n) => `a${n}: orgConfig(orgId: "demo") { ...F }`).join(' ')} }`,
};

describe('what a document retains', () => {
  it.each(Object.entries(documents))('counts a parsed document of %s at least as V8 holds it', (_, text) => {
    // Each text made afresh, as each request's is.
    const measured = retainedEach(100, (index) => parse(text(index)));
    const sample = text(0);
    expect(documentBytes(sample, parse(sample))).toBeGreaterThanOrEqual(measured);
  });

  it.each(Object.entries(documents))(
    'counts a compiled plan of %s, with the document it keeps, at least as V8 holds them',
    (_, text) => {
      const compile = (document: DocumentNode) => {
        const compiled = compileQuery(schema, document);
        if (!isCompiledQuery(compiled)) throw new Error(JSON.stringify(compiled));
        return compiled;
      };
      const measured = retainedEach(50, (index) => compile(parse(text(index))));
      const sample = parse(text(0));
      expect(documentBytes(text(0), sample) + compiledBytes(sample)).toBeGreaterThanOrEqual(measured);
    },
  );

  it('leaves nothing behind for good once compiled queries are let go of', () => {
    const compileAndDrop = (index: number) => {
      compileQuery(schema, parse(documents.ordinary!(index)));
    };
    for (let index = 0; index < 200; index++) compileAndDrop(1_000_000 + index);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let index = 0; index < 20_000; index++) compileAndDrop(index);
    gc();
    // Unbounded, graphql-jit kept about 1 KiB a compilation of this document (20 MiB here).
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(6 * 2 ** 20);
  }, 60_000);
});

describe('BytesBoundedCache', () => {
  it('forgets the least recently used entries once their sizes pass the bound, and counts what is added later', () => {
    const cache = new BytesBoundedCache<string>(100, (_, value) => value.length);
    cache.set('a', 'x'.repeat(40));
    cache.set('b', 'x'.repeat(40));
    expect(cache.get('a')).toBeDefined(); // now the most recently used
    cache.set('c', 'x'.repeat(40));
    expect([
      cache.get('a') !== undefined,
      cache.get('b') !== undefined,
      cache.get('c') !== undefined,
    ]).toEqual([true, false, true]);
    expect(cache.bytes).toBe(80);
    cache.grow('a', 30); // 'c' was used last: 'a' goes
    expect(cache.get('a')).toBeUndefined();
    expect(cache.bytes).toBe(40);
    cache.set('huge', 'x'.repeat(101)); // larger than the bound: never held
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.size).toBe(1);
  });
});
