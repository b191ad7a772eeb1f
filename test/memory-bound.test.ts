// What the gateway remembers per request shape, per key and per organisation stays within its bounds
// in bytes against a client sending endless variants: one adviser key sends tens of thousands of
// distinct GraphQL read operations (each twice, so each gets a compiled plan and a remembered body),
// distinct bodies of one operation (other variables, other whitespace, large variables), as many
// distinct GET URLs of it (remembered by their text as bodies are), documents
// that do not parse or validate, and distinct REST requests, over real HTTP with keep-alive. The
// gateway's heap after a forced GC (V8's low-memory collection, bench/soak-probe.mjs) must stay within
// the sum of the README's bounds over what it held before, and level off: the second half of the
// traffic must not grow it as the first half did.
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryOf, startProbedGateway, stopProbedGateway } from '../bench/probed-gateway.ts';
import { buildOrgsDatabase } from '../bench/variant-gateway.ts';

const MiB = 2 ** 20;
/**
 * The README's bounds ("Memory"), added up: remembered bodies and answers (32 MiB), read plans
 * (32 MiB), yoga's parsed documents and their compiled forms (32 MiB), texts that failed to parse
 * (4 MiB).
 */
const boundBytes = (32 + 32 + 32 + 4) * MiB;
/** The traffic comes in quarters, the memory sampled after each. */
const quarters = 4;
/** Distinct operations per quarter, each sent twice. */
const operationsPerQuarter = 2_500;
/** Distinct bodies of one operation per quarter. */
const bodiesPerQuarter = 2_500;
const concurrency = 8;

const selections = [
  'version',
  'branding { name color }',
  'website { baseUrl allowedOrigins }',
  'assignment { autoAssignedLimit }',
  'privacy { agreementEnabled forgetMeEnabled }',
  'sla { openedConversations { range { lowerBound upperBound } } }',
  'updatedAt',
];

/** The i-th distinct operation text: its name, alias, fields and their order differ; one in ten is large. */
function operation(i: number): string {
  const count = 1 + (i % selections.length);
  const fields = Array.from({ length: count }, (_, n) => selections[(i + n) % selections.length]);
  // Comments are tokens graphql-js keeps with the document; every field selected twice is compiled once.
  const large = i % 10 === 0 ? ` ${'#\n'.repeat(3_000)}` : '';
  const wide = i % 10 === 5 ? ` ${selections.join(' ')}` : '';
  return `query Q${i}($orgId: ID!) { o${i % 13}: orgConfig(orgId: $orgId) { ${fields.join(' ')}${wide} } }${large}`;
}

const sameOperation = 'query Same($orgId: ID!) { orgConfig(orgId: $orgId) { version branding { color } } }';

/** The j-th distinct variables of one operation; some large. */
function variablesOf(j: number, orgId: string): Record<string, unknown> {
  const variables: Record<string, unknown> = { orgId, n: j };
  if (j % 5 === 0) variables.pad = 'x'.repeat(6_000);
  // Parsed, each {} is an object of its own: far more memory than its two characters.
  if (j % 5 === 1) variables.objects = Array.from({ length: 1_000 }, () => ({}));
  return variables;
}

/** The j-th distinct body of one operation: other variables, other whitespace. */
function body(j: number, orgId: string): string {
  return `{"query":${JSON.stringify(sameOperation)},${' '.repeat(j % 97)}"variables":${JSON.stringify(variablesOf(j, orgId))}}`;
}

/** The j-th distinct GET of the same operation, its variables in the URL (remembered by its URL). */
const getPath = (j: number, orgId: string) =>
  `/graphql?${new URLSearchParams({ query: sameOperation, variables: JSON.stringify(variablesOf(j, orgId)) })}`;

interface Sent {
  status: number;
  text: string;
}

describe('memory against endless variants through one key', () => {
  it('stays within the documented bounds and levels off', async () => {
    const work = mkdtempSync(join(tmpdir(), 'org-config-memory-'));
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    let gateway: Awaited<ReturnType<typeof startProbedGateway>> | undefined;
    try {
      const databasePath = join(work, 'memory.db');
      const { orgs } = await buildOrgsDatabase(databasePath, 2);
      const { orgId, key } = orgs[1]!; // an adviser key of org-00001
      gateway = await startProbedGateway(databasePath, {
        // Far more requests than the per-key limit lets through in a minute by default.
        RATE_LIMIT_PER_KEY_PER_MINUTE: '10000000',
      });
      const { url, child } = gateway;

      const send = (path: string, init: { body?: string; headers?: Record<string, string> }) =>
        new Promise<Sent>((resolve, reject) => {
          const headers: Record<string, string> = { 'x-api-key': key, ...init.headers };
          if (init.body !== undefined) headers['content-type'] = 'application/json';
          const request = httpRequest(
            `${url}${path}`,
            { method: init.body === undefined ? 'GET' : 'POST', headers, agent },
            (response) => {
              const chunks: Buffer[] = [];
              response.on('data', (chunk: Buffer) => chunks.push(chunk));
              response.on('error', reject);
              response.on('end', () =>
                resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
              );
            },
          );
          request.on('error', reject);
          request.end(init.body);
        });
      const graphql = (text: string) => send('/graphql', { body: text });

      const failures: string[] = [];
      const expectRead = (sent: Sent, what: string) => {
        if ((sent.status !== 200 || !sent.text.startsWith('{"data":{')) && failures.length < 5)
          failures.push(`${what}: ${sent.status} ${sent.text.slice(0, 200)}`);
      };

      /** Runs the tasks `concurrency` at a time, each loop awaiting its answers. */
      const run = async (tasks: number, task: (index: number) => Promise<void>) => {
        let next = 0;
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (next < tasks) await task(next++);
          }),
        );
      };

      /** Bodies [first, first + bodies) of one operation, then operations [first, first + operations). */
      const traffic = async (first: number, operations: number, bodies: number) => {
        // Bodies first: what a half leaves last in the memory of bodies is its operations', each with its plan.
        await run(bodies, async (n) => {
          const j = first + n;
          expectRead(await graphql(body(j, orgId)), `body ${j}`);
          expectRead(await graphql(body(j, orgId)), `body ${j} again`);
          expectRead(await send(getPath(j, orgId), {}), `GET ${j}`);
          expectRead(await send(getPath(j, orgId), {}), `GET ${j} again`);
        });
        await run(operations, async (n) => {
          const i = first + n;
          const text = JSON.stringify({ query: operation(i), variables: { orgId } });
          // Twice: yoga runs it first, then its plan does and remembers the body.
          expectRead(await graphql(text), `operation ${i}`);
          expectRead(await graphql(text), `operation ${i} again`);
          if (n % 20 === 0) {
            // Texts that do not parse, and operations that do not validate: remembered by yoga.
            await graphql(JSON.stringify({ query: `query P${i} { orgConfig(orgId: "${orgId}") { version ` }));
            const unknown = Array.from({ length: 1 + (i % 150) }, (_, n) => `nope${n}`).join(' ');
            await graphql(
              JSON.stringify({ query: `query V${i} { orgConfig(orgId: "${orgId}") { ${unknown} } }` }),
            );
            // REST: distinct query strings and Accept-Encoding values.
            const rest = await send(`/api/orgs/${orgId}/config?v=${i}`, {
              headers: { 'accept-encoding': `gzip;q=0.${(i % 9) + 1}, br;q=0.${((i + 3) % 9) + 1}, x-${i}` },
            });
            if (rest.status !== 200 && failures.length < 5) failures.push(`REST ${i}: ${rest.status}`);
          }
        });
      };

      // Warm: every path taken a few times, so what is measured is what the variants add.
      await traffic(0, 100, 100);
      const before = await memoryOf(child);
      const samples: Awaited<ReturnType<typeof memoryOf>>[] = [];
      for (let quarter = 0; quarter < quarters; quarter++) {
        await traffic(100 + quarter * operationsPerQuarter, operationsPerQuarter, bodiesPerQuarter);
        samples.push(await memoryOf(child));
      }
      expect(failures).toEqual([]);

      const figure = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
      const figures = `heap after a forced GC ${[before, ...samples].map((memory) => figure(memory.heapUsed)).join(', ')}; after V8's low-memory collection ${[before, ...samples].map(({ reduced }) => `${figure(reduced.heapUsed)} (array buffers ${figure(reduced.arrayBuffers)})`).join(', ')}`;
      console.log(`before the variants, then after each quarter: ${figures}`);
      // What the gateway holds: V8 keeps the code of functions made from source text (graphql-jit's
      // compiled plans) in its compilation cache past their last use, and drops it when memory runs low.
      const held = ({ reduced }: (typeof samples)[number]) => reduced.heapUsed + reduced.arrayBuffers;
      // Within the bounds, over what the gateway held before the variants came.
      for (const sample of samples) expect(held(sample) - held(before), figures).toBeLessThan(boundBytes);
      // Level: the last two quarters add little to what the first two left (which filled every memory);
      // over eight quarters the heap moved within about 10 MiB, with no trend.
      const firstHalf = Math.max(...samples.slice(0, 2).map(held));
      const secondHalf = Math.max(...samples.slice(2).map(held));
      expect(secondHalf, figures).toBeLessThan(firstHalf * 1.1 + 4 * MiB);
    } finally {
      if (gateway) await stopProbedGateway(gateway.child);
      agent.destroy();
      rmSync(work, { recursive: true, force: true });
    }
  }, 180_000);
});
