// The widget's reads counted rather than timed: instructions per request on the main thread, under
// valgrind's callgrind, for GW (the GraphQL widget read) and SW (the snapshot); for B0's bare handler
// sent SW's request (bench/bare-server.ts), the ceiling; and for B0H, that handler writing the
// snapshot's headers too, the floor of any server answering the widget so. On a shared machine CPU
// time per request moves by half from minute to minute; these counts moved by under 1 % between
// runs on a quiet machine, by up to 5 % on a busy one: compare what one run counts.
//
// npm run bench:callgrind-widget -- [--commits worktree,HEAD~1] [--warm 20000] [--reads 3000]
//
// Needs valgrind (Debian: apt install valgrind). Each commit is a copy built to the bundle
// (callgrind.ts). Each process is counted alone, one after another: beside another one, its
// compiler thread falls behind and more of the requests counted run unoptimised code. The requests
// before the counted ones let V8 optimise what they run.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type autocannon from 'autocannon';
import { answeredUnderValgrind, countedUnderCallgrind, preparedCopy } from './callgrind.ts';
import { snapshotRequest, widgetGraphqlRequest } from './requests.ts';
import { option } from './script-options.ts';
import { buildOrgsDatabase, gatewayEnv, runBenchScript } from './variant-gateway.ts';

const commits = option('commits', 'worktree').split(',');
const warm = Number(option('warm', '20000'));
const reads = Number(option('reads', '3000'));
const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'org-config-callgrind-widget-'));

/** Instructions per answered request on the main thread of `args` (node's, in `cwd`) under these requests. */
async function instructionsPerRequest(
  label: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
  request: autocannon.Request,
): Promise<number> {
  const load = (url: string, amount: number) => answeredUnderValgrind(label, url, 10, amount, [request]);
  const { annotated, answered } = await countedUnderCallgrind(
    {
      label,
      out: join(work, label),
      options: ['--separate-threads=yes'],
      args,
      env,
      cwd,
      warmUp: (url) => load(url, warm),
      counted: (url) => load(url, reads),
    },
    // With --separate-threads, thread 01 is the main one.
    '.1-01',
  );
  const total = /^\s*([\d,]+)\s.*PROGRAM TOTALS/m.exec(annotated);
  if (!total) throw new Error(`${label}: no total in the dump`);
  return Number(total[1]!.replaceAll(',', '')) / answered;
}

async function main(): Promise<void> {
  if (spawnSync('valgrind', ['--version']).status !== 0)
    throw new Error('valgrind is not installed (Debian: apt install valgrind)');
  const database = join(work, 'one.db');
  const { demoWidgetKey } = await buildOrgsDatabase(database, 1);
  const snapshot = snapshotRequest('demo', demoWidgetKey);
  const thousands = (count: number) => `${(count / 1000).toFixed(1)}k`;
  const bare = await instructionsPerRequest(
    'bare',
    ['--import', 'tsx', 'bench/bare-server.ts'],
    {},
    root,
    snapshot,
  );
  console.log(`B0's bare handler, sent SW's request: ${thousands(bare)} instructions per request`);
  const floor = await instructionsPerRequest(
    'bare-widget-headers',
    ['--import', 'tsx', 'bench/bare-server.ts', '--widget-headers'],
    {},
    root,
    snapshot,
  );
  console.log(
    `B0H, the same writing the snapshot's headers too: ${thousands(floor)} (${(floor / bare).toFixed(2)} × B0's)`,
  );
  for (const [index, commit] of commits.entries()) {
    const dir = preparedCopy(root, work, commit, index);
    const counted = async (name: string, request: autocannon.Request) => {
      const copy = join(work, `${index}-${name}.db`);
      copyFileSync(database, copy);
      const count = await instructionsPerRequest(
        `${index}-${name}`,
        ['dist/main.js'],
        gatewayEnv(copy),
        dir,
        request,
      );
      return `${name} ${thousands(count)} (${(count / bare).toFixed(2)} × B0's)`;
    };
    const sw = await counted('SW', snapshot);
    const gw = await counted('GW', widgetGraphqlRequest('demo', demoWidgetKey));
    console.log(`${commit}, instructions per request on the main thread: ${gw}, ${sw}`);
  }
}

runBenchScript(main, work);
