// The W scenarios alone, for working on the write path: req/s and the gateway's CPU ms per update.
// CPU per update barely moves when the machine is shared, where req/s does; judge changes by it.
//
// node --import tsx bench/profile-writes.ts [--seconds 3] [--rounds 2] [--variants default,sqlite-own-writes]
//                                           [--doors rest,graphql] [--cpu-prof DIR]
// Variants (bench/variant-gateway.ts) alternate round by round, each on a fresh gateway and a fresh
// copy of the same database. --cpu-prof writes the .cpuprofile of each gateway into
// DIR/VARIANT-ROUND/ (node --cpu-prof; the largest is the main thread).
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { cpuMs } from './process-stats.ts';
import { option, profileDirOption } from './script-options.ts';
import { mean } from './stats.ts';
import { buildDatabase, runBenchScript, startGateway, stop, variantLabel } from './variant-gateway.ts';

const seconds = Number(option('seconds', '3'));
const rounds = Number(option('rounds', '1'));
const variants = option('variants', 'default').split(',');
const doors = option('doors', 'rest,graphql').split(',');
const profileDir = profileDirOption();
const connections = 50;

const work = mkdtempSync(join(tmpdir(), 'org-config-writes-'));

let counter = 0;
const restPut = (key: string): autocannon.Request => ({
  method: 'PUT',
  path: '/api/orgs/demo/config',
  headers: { 'x-api-key': key, 'content-type': 'application/json' },
  setupRequest: (request) => ({
    ...request,
    body: JSON.stringify({ welcomeMessageEn: `hello ${counter++}` }),
  }),
});
const graphqlMutation = (key: string): autocannon.Request => ({
  method: 'POST',
  path: '/graphql',
  headers: { 'x-api-key': key, 'content-type': 'application/json' },
  setupRequest: (request) => ({
    ...request,
    body: JSON.stringify({
      query: 'mutation ($input: UpdateOrgConfigInput!) { updateOrgConfig(input: $input) { __typename } }',
      variables: { input: { orgId: 'demo', patch: { messages: { welcome: { pl: `cześć ${counter++}` } } } } },
    }),
  }),
});

interface Measured {
  rps: number;
  cpuPerUpdate: number;
  errors: number;
}

async function measure(
  url: string,
  child: ChildProcess,
  request: autocannon.Request,
  duration: number,
): Promise<Measured> {
  const before = cpuMs(child);
  const result = await autocannon({ url, connections, duration, requests: [request] });
  const cpu = cpuMs(child) - before;
  const ok = result['2xx'];
  return {
    rps: result.requests.average,
    cpuPerUpdate: cpu / Math.max(ok, 1),
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

async function main(): Promise<void> {
  const template = join(work, 'template.db');
  const key = await buildDatabase(template);
  const results = new Map<string, { rest: Measured[]; graphql: Measured[] }>(
    variants.map((variant) => [variant, { rest: [], graphql: [] }]),
  );
  for (let round = 1; round <= rounds; round++) {
    for (const variant of variants) {
      const database = join(work, `${variantLabel(variant, round)}.db`);
      copyFileSync(template, database);
      const { url, child } = await startGateway(
        database,
        variant,
        profileDir && join(profileDir, variantLabel(variant, round)),
      );
      // A short warm-up of each door measured: JIT, caches, the compiled mutation.
      const none: Measured = { rps: 0, cpuPerUpdate: 0, errors: 0 };
      if (doors.includes('rest'))
        await autocannon({ url, connections, duration: 1, requests: [restPut(key)] });
      if (doors.includes('graphql'))
        await autocannon({ url, connections, duration: 1, requests: [graphqlMutation(key)] });
      const rest = doors.includes('rest') ? await measure(url, child, restPut(key), seconds) : none;
      const graphql = doors.includes('graphql')
        ? await measure(url, child, graphqlMutation(key), seconds)
        : none;
      await stop(child);
      results.get(variant)!.rest.push(rest);
      results.get(variant)!.graphql.push(graphql);
      const line = (m: Measured) =>
        `${Math.round(m.rps)} req/s, ${m.cpuPerUpdate.toFixed(3)} CPU ms/update${m.errors ? `, ${m.errors} errors` : ''}`;
      console.log(`round ${round} ${variant}: REST ${line(rest)} | GraphQL ${line(graphql)}`);
    }
  }
  if (rounds > 1 || variants.length > 1) {
    for (const [variant, { rest, graphql }] of results) {
      console.log(
        `mean ${variant}: REST ${Math.round(mean(rest.map((m) => m.rps)))} req/s, ${mean(rest.map((m) => m.cpuPerUpdate)).toFixed(3)} ms/update | ` +
          `GraphQL ${Math.round(mean(graphql.map((m) => m.rps)))} req/s, ${mean(graphql.map((m) => m.cpuPerUpdate)).toFixed(3)} ms/update`,
      );
    }
  }
}

runBenchScript(main, work);
