// The benchmark: the read paths against a bare node:http ceiling (B0), writes, and change fan-out, in one run.
// npm run bench            the full run (about 10 minutes), results in bench/results/
// npm run bench -- --smoke tiny numbers, to check the script works (the test suite runs it)
// npm run bench -- --variant LABEL=DIR   also measures the gateway of another checkout (DIR, e.g. a
//   commit without an optimisation: git worktree add DIR COMMIT, with node_modules linked) against
//   this run's rows; repeatable. What an optimisation gives is measured so, not by switches in src/.
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { benchCluster } from './cluster.ts';
import { type FanOutResult, sseFanOut, wsFanOut } from './fanout.ts';
import { benchPostgres, type PostgresBenchResult } from './postgres.ts';
import { cpuMs, rss } from './process-stats.ts';
import {
  fullQuery,
  graphqlRequest,
  inTurn,
  restRequest,
  snapshotRequest,
  widgetGraphqlRequest,
  widgetQuery,
} from './requests.ts';
import { mean, median, medianRatio } from './stats.ts';
import { buildOrgsDatabase, gatewayEnv, runBenchScript, startProcess } from './variant-gateway.ts';

const smoke = process.argv.includes('--smoke');
const outIndex = process.argv.indexOf('--out');
const resultsDir =
  outIndex > 0 ? process.argv[outIndex + 1]! : new URL('./results', import.meta.url).pathname;
const plan = smoke
  ? {
      duration: 1,
      rounds: 1,
      roundSeconds: 1,
      connections: 4,
      orgs: 20,
      sse: [10],
      ws: [5],
      writes: 1,
      changes: 1,
    }
  : {
      duration: 5,
      rounds: 5,
      roundSeconds: 3,
      connections: 50,
      orgs: 10_000,
      sse: [1_000, 10_000],
      ws: [1_000, 10_000],
      writes: 5,
      changes: 5,
    };

/** Other checkouts to measure against this run: `--variant LABEL=DIR`, repeatable. */
const variantCheckouts = process.argv.flatMap((argument, index) => {
  if (process.argv[index - 1] !== '--variant') return [];
  const [label, dir] = argument.split(/=(.*)/s);
  if (!label || !dir) throw new Error(`--variant takes LABEL=DIR, not "${argument}"`);
  return [{ label, dir: resolve(dir) }];
});

const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'org-config-bench-'));
const log = (line: string) => console.error(`[bench] ${line}`);

interface Started {
  url: string;
  child: ChildProcess;
  startupMs: number;
}

/** Starts a process and resolves once it prints its listening line, with the time that took. */
async function start(
  args: string[],
  env: Record<string, string> = {},
  nodeArgs = ['--import', 'tsx'],
  cwd = root,
): Promise<Started> {
  const began = performance.now();
  const started = await startProcess([...nodeArgs, ...args], env, cwd);
  return { ...started, startupMs: performance.now() - began };
}

/** A load's target: the started server's URL, and its process, whose CPU time the load counts. */
const measured = (started: Started) => ({ url: started.url, server: started.child });

async function stop(started: Started): Promise<void> {
  const exited = new Promise((resolve) => started.child.once('exit', resolve));
  started.child.kill('SIGTERM');
  await exited;
}

async function startGateway(
  databasePath: string,
  extra: Record<string, string> = {},
  cwd = root,
): Promise<Started> {
  return start(['src/main.ts'], gatewayEnv(databasePath, extra), undefined, cwd);
}

/** The PostgreSQL runs, with this file's tools (DATABASE_URL in `env` replaces the SQLite one). */
const runPostgres = () =>
  benchPostgres<Started, LoadResult>({
    startGateway: (env) => whenReady(start(['src/main.ts'], { ...gatewayEnv(''), ...env })),
    stop,
    urlOf: (started) => started.url,
    load,
    requests: {
      rest: (orgId, key) => restRequest(orgId, key),
      widget: (orgId, key) => graphqlRequest(widgetQuery, orgId, key),
      restPut: (key, body) => ({
        method: 'PUT',
        path: '/api/orgs/demo/config',
        headers: { 'x-api-key': key, 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: body() }),
      }),
    },
    writesSeconds: plan.writes,
    withRedis: !smoke,
    log,
  });

/** A scenario on another checkout (--variant) against this one. */
interface VariantRow {
  variant: string;
  scenario: string;
  rps: number;
  /** This checkout's req/s in the same rounds. */
  baseline: number;
  /** This checkout's req/s ÷ the variant's, the median of the rounds' ratios. */
  ratio: number;
  /** Failed or unexpected answers, both sides together. */
  errors: number;
  /** The server's CPU time per request, µs, the median round's: the variant's, and this checkout's. */
  cpuUsPerRequest?: number;
  baselineCpuUsPerRequest?: number;
}

/** What a scenario sends, without the gateway's URL (each run has its own). */
type VariantOptions = Omit<autocannon.Options, 'url'> & { expectStatus?: number };

interface LoadResult {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /**
   * The server's CPU time per request, µs (user and system, all its threads), when its process was
   * given: unlike req/s, it does not depend on whether the load generator or the server ran out of
   * CPU first, nor on how much of the machine another tenant took meanwhile.
   */
  cpuUsPerRequest?: number;
  /** Measured in alternated rounds: which alternation (one per call of alternated), and the req/s of each round. */
  rounds?: { alternation: number; rps: number[] };
}

/** A load's options: autocannon's, the status expected, and the server's process, to count its CPU time. */
type LoadOptions = autocannon.Options & { expectStatus?: number; server?: ChildProcess };

async function load(name: string, options: LoadOptions): Promise<LoadResult> {
  const { server, ...sent } = options;
  const cpuBefore = server ? cpuMs(server) : 0;
  const result = await autocannon({ connections: plan.connections, duration: plan.duration, ...sent });
  const cpuUsPerRequest = server ? ((cpuMs(server) - cpuBefore) * 1000) / result.requests.total : undefined;
  const expected = options.expectStatus ?? 200;
  const statusCounts = result.statusCodeStats as unknown as Record<string, { count: number }> | undefined;
  const unexpected = Object.entries(statusCounts ?? {})
    .filter(([status]) => Number(status) !== expected)
    .reduce((sum, [, { count }]) => sum + count, 0);
  const row = {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + unexpected,
    cpuUsPerRequest,
  };
  const cpu = cpuUsPerRequest === undefined ? '' : `, server CPU ${cpuUsPerRequest.toFixed(1)} µs/request`;
  log(
    `${name}: ${Math.round(row.rps)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, errors ${row.errors}${cpu}`,
  );
  return row;
}

/**
 * Loads measured in turn, round after round (each of plan.roundSeconds), after a second of warm-up
 * each: a machine whose load drifts during the run then weighs on each alike, and ratios between
 * them hold (pairedRatio). Each figure is the mean of its rounds' req/s, the median round's latencies.
 */
let alternations = 0;
async function alternated(runs: { name: string; options: LoadOptions }[]): Promise<LoadResult[]> {
  const alternation = ++alternations;
  for (const { options } of runs) {
    const { server: _, ...sent } = options;
    await autocannon({ connections: plan.connections, ...sent, duration: 1 });
  }
  const measured = runs.map(() => [] as LoadResult[]);
  for (let round = 1; round <= plan.rounds; round++) {
    for (const [index, { name, options }] of runs.entries())
      measured[index]!.push(
        await load(plan.rounds > 1 ? `${name} (round ${round})` : name, {
          duration: plan.roundSeconds,
          ...options,
        }),
      );
  }
  return runs.map(({ name }, index) => {
    const rounds = measured[index]!;
    return {
      name,
      rps: mean(rounds.map((row) => row.rps)),
      p50: median(rounds.map((row) => row.p50)),
      p99: median(rounds.map((row) => row.p99)),
      errors: rounds.reduce((sum, row) => sum + row.errors, 0),
      cpuUsPerRequest:
        rounds[0]!.cpuUsPerRequest === undefined
          ? undefined
          : median(rounds.map((row) => row.cpuUsPerRequest!)),
      rounds: { alternation, rps: rounds.map((row) => row.rps) },
    };
  });
}

/** A load against its baseline: the median of their rounds' ratios when both were measured in the same alternated rounds, else the ratio of their req/s. */
function pairedRatio(value: LoadResult, base: LoadResult): number {
  const [values, bases] = [value.rounds, base.rounds];
  if (!values || !bases || values.alternation !== bases.alternation || values.rps.length < 2)
    return value.rps / base.rps;
  return medianRatio(values.rps, bases.rps);
}

async function waitReady(url: string): Promise<void> {
  for (;;) {
    const response = await fetch(`${url}/ready`).catch(() => undefined);
    if (response?.status === 200) return;
  }
}

/** A started gateway, once its /ready answers 200. */
async function whenReady(starting: Promise<Started>): Promise<Started> {
  const started = await starting;
  await waitReady(started.url);
  return started;
}

async function main(): Promise<void> {
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  log(`machine: ${machine}${smoke ? ' (smoke run)' : ''}`);

  const oneOrgDb = join(work, 'one.db');
  const manyOrgsDb = join(work, 'many.db');
  let began = performance.now();
  const one = await buildOrgsDatabase(oneOrgDb, 1);
  const many = await buildOrgsDatabase(manyOrgsDb, plan.orgs);
  log(`databases built in ${Math.round(performance.now() - began)} ms`);

  const rows: LoadResult[] = [];
  const bare = await start(['bench/bare-server.ts']);
  const bareWidget = await start(['bench/bare-server.ts', '--widget-headers']);

  // Start-up on the database of many organisations, to ready: from the bundle (npm run build, then
  // npm run start:built), and from the source through tsx (npm start), which keeps serving the runs below.
  await new Promise<void>((resolve, reject) =>
    spawn(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: root, stdio: 'inherit' }).once(
      'exit',
      (code) => (code === 0 ? resolve() : reject(new Error(`build exited with ${code}`))),
    ),
  );
  began = performance.now();
  const built = await start(['dist/main.js'], gatewayEnv(manyOrgsDb), []);
  await waitReady(built.url);
  const startupMs = performance.now() - began;
  log(`start-up to ready with ${plan.orgs} organisations, built bundle: ${Math.round(startupMs)} ms`);
  await stop(built);
  began = performance.now();
  const gatewayMany = await startGateway(manyOrgsDb);
  await waitReady(gatewayMany.url);
  const startupTsxMs = performance.now() - began;
  const rssManyStarted = rss(gatewayMany.child);
  log(`start-up to ready with ${plan.orgs} organisations, through tsx: ${Math.round(startupTsxMs)} ms`);

  const gateway = await startGateway(oneOrgDb);
  const demo = { orgId: 'demo', key: one.demoKey };
  const [b0, g1, g2, r1, r2, gw, sw, b0h] = (await alternated([
    { name: 'B0 bare node:http, same JSON from memory', options: measured(bare) },
    {
      name: 'G1 GraphQL, 5 widget settings',
      options: {
        ...measured(gateway),
        requests: [graphqlRequest(widgetQuery, demo.orgId, demo.key)],
      },
    },
    {
      name: 'G2 GraphQL, whole config',
      options: {
        ...measured(gateway),
        requests: [graphqlRequest(fullQuery, demo.orgId, demo.key)],
      },
    },
    {
      name: 'R1 REST GET',
      options: { ...measured(gateway), requests: [restRequest(demo.orgId, demo.key)] },
    },
    {
      name: 'R2 REST GET, 304',
      options: {
        ...measured(gateway),
        requests: [restRequest(demo.orgId, demo.key, { 'if-none-match': '"v1"' })],
        expectStatus: 304,
      },
    },
    {
      name: "GW GraphQL, the widget's read as widget.js sends it: GET, pk_ key in the URL, Origin",
      options: {
        ...measured(gateway),
        requests: [widgetGraphqlRequest(demo.orgId, one.demoWidgetKey)],
      },
    },
    {
      name: 'SW widget snapshot, GET /widget/{orgId}/config with Origin',
      options: {
        ...measured(gateway),
        requests: [snapshotRequest(demo.orgId, one.demoWidgetKey)],
      },
    },
    {
      name: "B0H bare node:http, same JSON with the snapshot's headers",
      options: measured(bareWidget),
    },
  ])) as [LoadResult, LoadResult, LoadResult, LoadResult, LoadResult, LoadResult, LoadResult, LoadResult];
  rows.push(b0, g1, g2, r1, r2, gw, sw, b0h);
  const rssOneOrg = rss(gateway.child);

  // Many organisations against one, their requests handed out in turn (requests.ts). Building each request
  // costs the load generator (on the same cores) more than resending one, so the one-organisation
  // baseline builds its requests the same way. Each is sent once over all organisations before it is
  // measured: the measure is of a running gateway whose caches hold what its clients read, not of
  // the first read of each organisation (the start-up figure). Each pair is measured in alternated rounds,
  // on two gateways with the same past: the one-organisation side is not the gateway that served the
  // runs above (how long a process has run under load moves its figures: JIT tiers, heap sizes).
  const gatewayOne = await whenReady(startGateway(oneOrgDb));
  const warmedPair = async (
    requestOf: (orgId: string, key: string) => autocannon.Request,
    names: [string, string],
  ) => {
    for (const [url, targets] of [
      [gatewayMany.url, many.orgs],
      [gatewayOne.url, demoOnly],
    ] as const) {
      await autocannon({
        url,
        connections: plan.connections,
        amount: targets.length,
        requests: inTurn(targets, requestOf),
      });
    }
    return alternated([
      { name: names[0], options: { url: gatewayMany.url, requests: inTurn(many.orgs, requestOf) } },
      { name: names[1], options: { url: gatewayOne.url, requests: inTurn(demoOnly, requestOf) } },
    ]);
  };
  const demoOnly = many.orgs.map(() => demo);
  const widgetRequest = (orgId: string, key: string) => graphqlRequest(widgetQuery, orgId, key);
  const [r1Many, r1Listed] = (await warmedPair(restRequest, [
    `R1 REST GET, ${plan.orgs} orgs in turn`,
    'R1 REST GET, 1 org, its requests built in turn the same way',
  ])) as [LoadResult, LoadResult];
  const [g1Many, g1Listed] = (await warmedPair(widgetRequest, [
    `G1 GraphQL, ${plan.orgs} orgs in turn`,
    'G1 GraphQL, 1 org, its requests built in turn the same way',
  ])) as [LoadResult, LoadResult];
  rows.push(r1Many, r1Listed, g1Many, g1Listed);
  await stop(gatewayOne);
  const rssManyCached = rss(gatewayMany.child);
  log(`resident memory with ${plan.orgs} organisations cached: ${Math.round(rssManyCached / 2 ** 20)} MiB`);

  // Latency at 70% of each one's peak.
  const at70 = async (name: string, peak: LoadResult, options: autocannon.Options) =>
    load(`${name} at 70% of peak`, { ...options, overallRate: Math.max(1, Math.round(peak.rps * 0.7)) });
  const b070 = await at70('B0', b0, { url: bare.url });
  const g170 = await at70('G1', g1, {
    url: gateway.url,
    requests: [graphqlRequest(widgetQuery, demo.orgId, demo.key)],
  });
  const r170 = await at70('R1', r1, { url: gateway.url, requests: [restRequest(demo.orgId, demo.key)] });
  rows.push(b070, g170, r170);

  // Writes: each changes the setting, so each is a real commit with its revision.
  let counter = 0;
  const restWrites: VariantOptions = {
    duration: plan.writes,
    requests: [
      {
        method: 'PUT',
        path: '/api/orgs/demo/config',
        headers: { 'x-api-key': demo.key, 'content-type': 'application/json' },
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({ welcomeMessageEn: `hello ${counter++}` }),
        }),
      },
    ],
  };
  const graphqlWrites: VariantOptions = {
    duration: plan.writes,
    requests: [
      {
        method: 'POST',
        path: '/graphql',
        headers: { 'x-api-key': demo.key, 'content-type': 'application/json' },
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({
            query:
              'mutation ($input: UpdateOrgConfigInput!) { updateOrgConfig(input: $input) { __typename } }',
            variables: {
              input: { orgId: 'demo', patch: { messages: { welcome: { pl: `cześć ${counter++}` } } } },
            },
          }),
        }),
      },
    ],
  };
  const wRest = await load('W REST PUT, one setting', { ...restWrites, url: gateway.url });
  const wGraphql = await load('W GraphQL mutation, one setting', { ...graphqlWrites, url: gateway.url });
  rows.push(wRest, wGraphql);
  await stop(gatewayMany);

  // Fan-out: each run on a fresh gateway, so that its memory figure is its own.
  const fanOut: FanOutResult[] = [];
  // Each size first on S0, the ceiling (bench/bare-fanout-server.ts), then on the gateway; the
  // largest of each again on every other checkout given (--variant).
  const fanOutRuns: {
    count: number;
    run: typeof sseFanOut;
    variant?: (typeof variantCheckouts)[number];
    bare?: true;
  }[] = [
    ...plan.sse.flatMap((count) => [
      { count, run: sseFanOut, bare: true as const },
      { count, run: sseFanOut },
    ]),
    ...variantCheckouts.map((variant) => ({ count: plan.sse.at(-1)!, run: sseFanOut, variant })),
    ...plan.ws.flatMap((count) => [
      { count, run: wsFanOut, bare: true as const },
      { count, run: wsFanOut },
    ]),
    ...variantCheckouts.map((variant) => ({ count: plan.ws.at(-1)!, run: wsFanOut, variant })),
  ];
  for (const { count, run, variant, bare } of fanOutRuns) {
    const server = bare
      ? await start(['bench/bare-fanout-server.ts'])
      : await startGateway(oneOrgDb, {}, variant?.dir);
    const current = {
      current: Number(
        /\d+/.exec(
          (
            await fetch(`${server.url}/api/orgs/demo/config`, { headers: { 'x-api-key': demo.key } })
          ).headers.get('etag')!,
        )![0],
      ),
    };
    const row = await run(server, demo.key, count, current, { changes: plan.changes });
    log(
      `${row.name}: p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms, server CPU ${row.serverCpuMs} ms, ${Math.round(row.bytesPerSubscriber)} B/subscriber`,
    );
    const name = bare
      ? `${row.name}, S0 bare node:http`
      : variant
        ? `${row.name}, variant ${variant.label}`
        : row.name;
    fanOut.push({
      ...row,
      name,
      ceiling: bare ? undefined : fanOut.find((other) => other.name === `${row.name}, S0 bare node:http`),
    });
    await stop(server);
  }

  // Every other checkout given (--variant), against this checkout in alternated rounds: each on a
  // fresh gateway and its own copy of the database, the reads first (R2's ETag is then current),
  // the writes after.
  const variantRows: VariantRow[] = [];
  for (const variant of variantCheckouts) {
    const [ownDb, variantDb] = [join(work, 'compared-own.db'), join(work, `compared-${variant.label}.db`)];
    copyFileSync(oneOrgDb, ownDb);
    copyFileSync(oneOrgDb, variantDb);
    const own = await whenReady(startGateway(ownDb));
    const other = await whenReady(startGateway(variantDb, {}, variant.dir));
    // The writes above moved the version on: R2 asks for the current one.
    const etag = (
      await fetch(`${own.url}/api/orgs/demo/config`, { headers: { 'x-api-key': demo.key } })
    ).headers.get('etag')!;
    const sides = [
      { label: 'this checkout', started: own },
      { label: `variant ${variant.label}`, started: other },
    ];
    const both = (scenario: string, options: VariantOptions) =>
      sides.map((side) => ({
        name: `${scenario}, ${side.label}`,
        options: { ...options, ...measured(side.started) },
      }));
    const scenarios: [string, VariantOptions][][] = [
      [
        ['G1 GraphQL, 5 widget settings', { requests: [graphqlRequest(widgetQuery, demo.orgId, demo.key)] }],
        ['G2 GraphQL, whole config', { requests: [graphqlRequest(fullQuery, demo.orgId, demo.key)] }],
        ['R1 REST GET', { requests: [restRequest(demo.orgId, demo.key)] }],
        [
          'R2 REST GET, 304',
          {
            requests: [restRequest(demo.orgId, demo.key, { 'if-none-match': etag })],
            expectStatus: 304,
          },
        ],
        [
          "GW GraphQL, the widget's read as widget.js sends it: GET, pk_ key in the URL, Origin",
          { requests: [widgetGraphqlRequest(demo.orgId, one.demoWidgetKey)] },
        ],
        [
          'SW widget snapshot, GET /widget/{orgId}/config with Origin',
          { requests: [snapshotRequest(demo.orgId, one.demoWidgetKey)] },
        ],
      ],
      [
        ['W REST PUT, one setting', restWrites],
        ['W GraphQL mutation, one setting', graphqlWrites],
      ],
    ];
    for (const group of scenarios) {
      const measured = await alternated(group.flatMap(([scenario, options]) => both(scenario, options)));
      for (const [index, [scenario]] of group.entries()) {
        const [mine, theirs] = [measured[2 * index]!, measured[2 * index + 1]!];
        variantRows.push({
          variant: variant.label,
          scenario,
          rps: theirs.rps,
          baseline: mine.rps,
          ratio: pairedRatio(mine, theirs),
          errors: mine.errors + theirs.errors,
          cpuUsPerRequest: theirs.cpuUsPerRequest,
          baselineCpuUsPerRequest: mine.cpuUsPerRequest,
        });
      }
    }
    await stop(own);
    await stop(other);
  }
  await stop(gateway);

  // The same reads and writes with two processes on the file, against the one-process rows above.
  const clusterRows = await benchCluster<Started, LoadResult>({
    startGateway: (env) => whenReady(startGateway(oneOrgDb, env)),
    stop,
    urlOf: (started) => started.url,
    load,
    requests: {
      rest: () => restRequest(demo.orgId, demo.key),
      widget: () => graphqlRequest(widgetQuery, demo.orgId, demo.key),
      restPut: () => restWrites.requests![0]!,
    },
    writesSeconds: plan.writes,
  });
  const cluster = clusterRows.map((row, index) => ({ row, oneProcess: [r1, g1, wRest][index]! }));
  await stop(bare);
  await stop(bareWidget);

  const postgres = await runPostgres();

  const report = renderReport({
    machine,
    rows,
    b0,
    b070,
    g1,
    g170,
    r1,
    r170,
    gw,
    sw,
    b0h,
    r1Many,
    r1Listed,
    g1Many,
    g1Listed,
    wRest,
    wGraphql,
    fanOut,
    variantRows,
    startupMs,
    startupTsxMs,
    rssManyStarted,
    rssManyCached,
    rssOneOrg,
    cluster,
    postgres,
  });
  mkdirSync(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\..+/, '');
  writeFileSync(join(resultsDir, smoke ? 'smoke.md' : `${stamp}.md`), report);
  if (!smoke) writeFileSync(join(resultsDir, 'latest.md'), report);
  console.log(report);
}

/**
 * The bound the README documents for the gateway's resident memory, with 10,000 organisations cached
 * or under the soak's sustained load: most of what varies is heap V8 keeps committed between collections.
 */
const memoryBoundMiB = 512;

const ms = (value: number) => value.toFixed(1);
const times = (factor: number) => `${factor.toFixed(2)} ×`;
const ratio = (value: number, base: number) => times(value / base);
const cpuText = (us: number | undefined) => (us === undefined ? '' : us.toFixed(1));

function renderReport(r: {
  machine: string;
  rows: LoadResult[];
  b0: LoadResult;
  b070: LoadResult;
  g1: LoadResult;
  g170: LoadResult;
  r1: LoadResult;
  r170: LoadResult;
  gw: LoadResult;
  sw: LoadResult;
  /** B0 writing the snapshot's headers: the floor of the widget's answers. */
  b0h: LoadResult;
  r1Many: LoadResult;
  r1Listed: LoadResult;
  g1Many: LoadResult;
  g1Listed: LoadResult;
  wRest: LoadResult;
  wGraphql: LoadResult;
  fanOut: FanOutResult[];
  variantRows: VariantRow[];
  startupMs: number;
  startupTsxMs: number;
  rssManyStarted: number;
  rssManyCached: number;
  rssOneOrg: number;
  cluster: { row: LoadResult; oneProcess: LoadResult }[];
  postgres: PostgresBenchResult<LoadResult>;
}): string {
  const lines = [
    `# Benchmark${smoke ? ' (smoke run: tiny numbers, not figures)' : ''}`,
    '',
    `${new Date().toISOString()} · ${r.machine} · ${plan.connections} connections, load generator autocannon in the same machine`,
    '',
    `The read runs are measured in ${plan.rounds} alternated rounds of ${plan.roundSeconds} s (B0, G1, G2, R1, R2 in turn; each many-organisations run in turn with its one-organisation baseline); req/s is the mean of the rounds, p50 and p99 the median round's, and a ratio of two runs alternated together (× B0, the targets) the median of their rounds' ratios, any other ratio that of their req/s. Other runs last ${plan.duration} s.`,
    '',
    "The server's CPU time per request (user and system, from /proc, the median round's) is given for the runs alternated with B0, and as B0's ÷ the run's: what the run's req/s would be, × B0, if the server's CPU alone limited both. On these 2 cores the load generator limits B0 (it uses a whole core, the bare server less), and another tenant of the machine moves req/s from round to round; CPU time per request moves far less.",
    '',
    '| scenario | req/s | × B0 | p50 ms | p99 ms | errors | server CPU µs/request | B0 CPU ÷ this |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.rows.map(
      (row) =>
        `| ${row.name} | ${Math.round(row.rps)} | ${times(pairedRatio(row, r.b0))} | ${row.p50} | ${row.p99} | ${row.errors} | ${cpuText(row.cpuUsPerRequest)} | ${row.cpuUsPerRequest && r.b0.cpuUsPerRequest ? ratio(r.b0.cpuUsPerRequest, row.cpuUsPerRequest) : ''} |`,
    ),
    '',
    `Each fan-out row: the change with the median p99 of ${plan.changes} committed one after another, each once every subscriber had the one before.`,
    '',
    '| change fan-out | subscribers | p50 ms | p99 ms | p99 × S0 | last ms | server CPU ms | server memory per subscriber |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.fanOut.map(
      (row) =>
        `| ${row.name} | ${row.subscribers} | ${ms(row.p50)} | ${ms(row.p99)} | ${row.ceiling ? ratio(row.p99, row.ceiling.p99) : ''} | ${ms(row.max)} | ${row.serverCpuMs} | ${(row.bytesPerSubscriber / 1024).toFixed(1)} KiB |`,
    ),
    '',
    `Start-up to ready on a database of ${plan.orgs} organisations: ${Math.round(r.startupMs)} ms from the bundle (npm run build; npm run start:built), ${Math.round(r.startupTsxMs)} ms from the source through tsx (npm start, which serves the other runs). Resident memory of the gateway on ${plan.orgs} organisations: ${Math.round(r.rssManyStarted / 2 ** 20)} MiB once ready, ${Math.round(r.rssManyCached / 2 ** 20)} MiB with all of them cached after the read runs (bound: ${memoryBoundMiB} MiB); with one organisation, after the read runs: ${Math.round(r.rssOneOrg / 2 ** 20)} MiB.`,
    '',
    '## Targets',
    '',
    '| target | measured | met |',
    '| --- | --- | --- |',
    ratioTarget('G1 ≥ 0.5 × B0 (req/s)', r.g1, r.b0, 0.5),
    ratioTarget('R1 ≥ 0.7 × B0 (req/s)', r.r1, r.b0, 0.7),
    ratioTarget('GW (GraphQL, widget key) ≥ 0.75 × B0 (req/s)', r.gw, r.b0, 0.75),
    ratioTarget('SW (widget snapshot) ≥ 0.85 × B0 (req/s)', r.sw, r.b0, 0.85),
    target(
      'G1 p99 at 70% of peak ≤ 3 × B0 p99 at 70%',
      `${r.g170.p99} ms vs ${r.b070.p99} ms`,
      r.g170.p99 <= 3 * Math.max(r.b070.p99, 1),
    ),
    target(
      'R1 p99 at 70% of peak ≤ 3 × B0 p99 at 70%',
      `${r.r170.p99} ms vs ${r.b070.p99} ms`,
      r.r170.p99 <= 3 * Math.max(r.b070.p99, 1),
    ),
    ratioTarget(
      `reads with ${plan.orgs} orgs within 10% of 1 org, requests built alike (R1)`,
      r.r1Many,
      r.r1Listed,
      0.9,
    ),
    ratioTarget(
      `reads with ${plan.orgs} orgs within 10% of 1 org, requests built alike (G1)`,
      r.g1Many,
      r.g1Listed,
      0.9,
    ),
    target('W ≥ 2,000 updates/s (REST)', `${Math.round(r.wRest.rps)}/s`, r.wRest.rps >= 2000),
    target('W ≥ 2,000 updates/s (GraphQL)', `${Math.round(r.wGraphql.rps)}/s`, r.wGraphql.rps >= 2000),
    ...r.fanOut
      .filter((row) => row.ceiling && !row.name.includes(', variant '))
      .map((row) =>
        target(
          `${row.name}: p99 ≤ 250 ms`,
          `${ms(row.p99)} ms (S0, the bare server: ${ms(row.ceiling!.p99)} ms)`,
          row.p99 <= 250,
        ),
      ),
    target('start-up to ready < 1 s (built bundle)', `${Math.round(r.startupMs)} ms`, r.startupMs < 1000),
    target(
      `resident memory with ${plan.orgs} organisations cached ≤ ${memoryBoundMiB} MiB (the README's bound)`,
      `${Math.round(r.rssManyCached / 2 ** 20)} MiB`,
      r.rssManyCached <= memoryBoundMiB * 2 ** 20,
    ),
    '',
    `The floor of the widget's answers: B0H, B0 writing the snapshot's headers besides its two (ETag, Cache-Control, Vary, the CORS allowance, a request id), gave ${times(pairedRatio(r.b0h, r.b0))} B0 in req/s, server CPU ${r.b0h.cpuUsPerRequest?.toFixed(1)} µs/request against ${r.b0.cpuUsPerRequest?.toFixed(1)}: what node:http alone spends on those headers. SW gave ${times(pairedRatio(r.sw, r.b0h))} B0H, GW ${times(pairedRatio(r.gw, r.b0h))}.`,
    '',
    '## Several processes on the SQLite file (WORKERS=2)',
    '',
    "The gateway as a node:cluster primary and two workers on the same file and port: the primary hands each connection to the workers in turn and counts the rate limits for both over IPC; a write waits for the file's one write lock. Each figure against the same scenario with one process in this run; the load generator shares the same cores.",
    '',
    '| scenario | req/s | × one process | p50 ms | p99 ms | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...r.cluster.map(
      ({ row, oneProcess }) =>
        `| ${row.name} | ${Math.round(row.rps)} | ${ratio(row.rps, oneProcess.rps)} | ${row.p50} | ${row.p99} | ${row.errors} |`,
    ),
    '',
    '## PostgreSQL and replicas',
    '',
    ...(r.postgres.skipped
      ? [`Not run: ${r.postgres.skipped}.`]
      : [
          "The same gateway on PostgreSQL (this machine's server, a fresh schema), alone and as two replicas with one load generator each, run at the same time and added up; all processes share the 2 cores, so this shows the cost of the shared database and of the row lock, not the capacity of two machines.",
          '',
          '| scenario | req/s | × B0 | × same on SQLite | p50 ms | p99 ms | errors |',
          '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
          ...r.postgres.rows.map((row) => {
            const onSqlite = /R1/.test(row.name) ? r.r1 : /G1/.test(row.name) ? r.g1 : r.wRest;
            return `| ${row.name} | ${Math.round(row.rps)} | ${ratio(row.rps, r.b0.rps)} | ${ratio(row.rps, onSqlite.rps)} | ${row.p50} | ${row.p99} | ${row.errors} |`;
          }),
        ]),
    '',
    '## Other checkouts (--variant), each measured against this one',
    '',
    `Each scenario on both in ${plan.rounds} alternated rounds of ${plan.roundSeconds} s, each gateway fresh on its own copy of the one-organisation database (the reads first, then the writes); the ratio is the median of the rounds' ratios.`,
    '',
    '| variant | scenario | variant req/s | this checkout req/s | this ÷ variant | errors | variant CPU µs/request | this checkout CPU µs/request | variant CPU ÷ this |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.variantRows.map(
      (row) =>
        `| ${row.variant} | ${row.scenario} | ${Math.round(row.rps)} | ${Math.round(row.baseline)} | ${times(row.ratio)} | ${row.errors} | ${cpuText(row.cpuUsPerRequest)} | ${cpuText(row.baselineCpuUsPerRequest)} | ${row.cpuUsPerRequest && row.baselineCpuUsPerRequest ? ratio(row.cpuUsPerRequest, row.baselineCpuUsPerRequest) : ''} |`,
    ),
    '',
    ...alsoTried,
    '',
  ];
  return lines.join('\n');
}

/** Changes measured while they were made (their before and after are in the git history), and what is still untried. */
const alsoTried = [
  'Also measured, not switchable (before and after in the commits that made them):',
  "- REST answers built with the server adapter's own Response (@whatwg-node/fetch) rather than the global one, which it read back through a stream: R1 about 2 ×.",
  '- drizzle statements prepared once, one reusable better-sqlite3 transaction, no re-read after the update, copy-on-write patches: W from about 550 to about 1,700-1,900 updates/s.',
  '- SQLite synchronous=NORMAL instead of FULL in WAL mode: no measurable change in W here (fsync was not the bottleneck); kept, as it saves an fsync per write on slower disks.',
  "- Writes, in CPU ms per update with bench/profile-writes.ts, each against the commit before it in the same run: the change feed taking local commits from memory without a query (REST 0.45 -> 0.41, GraphQL 0.71 -> 0.67); only the changed settings written (REST 0.45 -> 0.37, GraphQL 0.69 -> 0.58); the merged settings checked group by group (REST 0.35 -> 0.28, GraphQL 0.52 -> 0.47); the REST JSON made of per-group texts (REST 0.264 -> 0.246); the revision settings JSON likewise (REST 0.262 -> 0.253, GraphQL 0.437 -> 0.413). The patch of a GraphQL update checked once, diffSettings without serialising equal values, and positional binding instead of drizzle's placeholders were made together and not told apart from the noise of a busy machine; they remove work the profile showed.",
  '- A fan-out memo filled only once an event had executed did not pay: every subscriber asks in the same turn, so all of them missed. The memo shares the running execution instead (fanout-shared-serialisation).',
  "- Fan-out, in the gateway's CPU ms for one change to 10,000 subscribers with bench/profile-fanout.ts (npm run bench:fanout), alternated rounds in one run: the doors writing live events straight to their clients (fanout-direct-writes) SSE 830 -> 345, WebSocket 770 -> 255; then SSE events written to the socket as one prebuilt chunk of the chunked body rather than through the response (four writes and a deferred writev each) SSE 345 -> 200 (p99 208 ms against S0's 123 ms, which writes its SSE events the same way since). The same for WebSocket would mean writing frames past the ws library, to its private socket: not done.",
  '- API keys hashed with the one-shot crypto.hash rather than a Hash object: 0.4 against 1.1 µs per request.',
  "- Reads over 10,000 organisations, in memory touched per read: the per-key limit counted in this process by KeyWindows (one small object per key, no promise, timer or result object per request) instead of rate-limiter-flexible's RateLimiterMemory; a key read again after its 30 s keeping the record already held; key expiry as an integer on the monotonic clock; a remembered GraphQL answer checked against its organisation's cache slot instead of a lookup. Under callgrind with a simulated 4 MiB last-level cache (the key and limit windows lengthened to an hour, as valgrind slows the gateway some fifty times), 10,000 G1 reads over 10,000 organisations on the main thread: 55 -> 48 last-level read misses per read (one organisation: 5.7 -> 4.4), and 106 -> 100 to 105 thousand instructions per read (the garbage collector's timing moves that figure between runs). The wall-clock ratios of npm run bench:many-orgs move by more than that from run to run on this shared machine, so they cannot tell these apart.",
  "- A GraphQL read found as the last read of its key (a WeakMap from the key's cached record, in KnownReads) before the lookup by body text: bodies of different organisations differ only at the organisation's id, near their end, so each other body in the text's hash bucket was compared nearly in full. Under callgrind as above (two warm-up passes, then 10,000 G1 reads, main thread), in two runs (the second with npm run bench:callgrind): over one organisation 100.5 -> 97.5 and 100.4 -> 98.5 thousand instructions per read; over 10,000, 101.3 -> 96.7 and 101.4 -> 102.2, within what the garbage collector's timing moves between runs; last-level data read misses per read 34.7 -> 35.4 and 34.7 -> 32.4 over 10,000, about 4.5 over one either way. A small saving of work per read, not of the memory that grows with the number of organisations.",
  "- The read scenarios are measured in alternated rounds (B0, G1, G2, R1, R2; and each many-organisations run with its one-organisation baseline), each figure the mean of its rounds: the ratios between them no longer depend on when in the run each was measured. Each ratio between them is the median of the rounds' ratios, over five rounds of 3 s rather than the mean of three of 5 s: one round disturbed by the shared machine (an earlier run lost 40 % of R1 in one part) no longer moves it.",
  '- Start-up: the bundle with the dependencies outside it (esbuild --packages=external) took about 1.4 s against 0.8 s for the full bundle and 4.3 s through tsx, measured on a busy machine; the full bundle is kept (npm run build).',
  '',
  '- @graphql-yoga/plugin-response-cache, keyed by API key (an earlier session): G1 +12 % in one back-to-back run, and it warned that graphql-jit replaced the execute it wraps; not kept. The GraphQL read fast path keeps its own answers per request body instead, valid while the cached configuration object is the same (measured then by switching it off).',
  '- Several processes on the SQLite file (WORKERS=2, node:cluster): measured in its own section above; on these 2 cores, with the load generator on them too and every rate-limit check an IPC round trip to the primary, reads lose and writes barely gain, so WORKERS stays 1 by default.',
  '',
  'The fast paths, the shared fan-out, its direct writes and the SSE Node stream are switchable: the tables above measure each against this run (the fan-out table runs the 10,000 subscriber cases again without them, with the CPU time the gateway spent, which a busy machine disturbs less than the wall time).',
  '',
  'Not tried yet: sharing events between subscribers whose variables differ only in sinceVersion (the key holds all the variables, so those execute apart); WebSocket frames built once per selection and written to each socket in one write (ws frames each message in two writes).',
];

function target(name: string, measured: string, met: boolean): string {
  return `| ${name} | ${measured} | ${met ? 'yes' : '**no**'} |`;
}

/** A target on a load against its baseline (pairedRatio): met at `atLeast` times the baseline or more. */
function ratioTarget(name: string, value: LoadResult, base: LoadResult, atLeast: number): string {
  const factor = pairedRatio(value, base);
  return target(name, times(factor), factor >= atLeast);
}

runBenchScript(main, work);
