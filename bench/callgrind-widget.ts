// The widget's reads counted rather than timed: instructions per request on the main thread, under
// valgrind's callgrind, for GW (the GraphQL widget read) and SW (the snapshot), and for B0's bare
// handler sent SW's request (bench/bare-server.ts), the ceiling. On a shared machine CPU time per
// request moves by half from minute to minute; these counts move by well under 1 %.
//
// npm run bench:callgrind-widget -- [--commits worktree,HEAD~1] [--warm 20000] [--reads 3000]
//
// Needs valgrind (Debian: apt install valgrind). Each commit is a copy built to the bundle
// (callgrind-copy.ts). Each process is counted alone, one after another: beside another one, its
// compiler thread falls behind and more of the requests counted run unoptimised code. The requests
// before the counted ones let V8 optimise what they run.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { preparedCopy } from './callgrind-copy.ts';
import { snapshotRequest, widgetGraphqlRequest } from './requests.ts';
import { option } from './script-options.ts';
import { buildOrgsDatabase, gatewayEnv, runBenchScript, startProcess, stop } from './variant-gateway.ts';

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
  const out = join(work, label);
  mkdirSync(out);
  const valgrind = [
    '--tool=callgrind',
    '--separate-threads=yes',
    '--smc-check=all-non-file',
    `--callgrind-out-file=${join(out, 'callgrind.out.%p')}`,
    `--log-file=${join(out, 'valgrind.log')}`,
  ];
  const { url, child } = await startProcess([...valgrind, process.execPath, ...args], env, cwd, 'valgrind');
  const load = async (amount: number) => {
    const result = await autocannon({ url, connections: 10, amount, timeout: 300, requests: [request] });
    if (result.non2xx) throw new Error(`${label}: ${result.non2xx} answers other than 2xx`);
    return result['2xx'];
  };
  await load(warm);
  execFileSync('callgrind_control', ['--zero', String(child.pid)], { stdio: 'ignore' });
  const answered = await load(reads);
  execFileSync('callgrind_control', ['--dump', String(child.pid)], { stdio: 'ignore' });
  await stop(child);
  // With --separate-threads, the dump callgrind_control asked for is OUTFILE.1-TT per thread; 01 is the main one.
  const dump = readdirSync(out).find((name) => name.endsWith('.1-01'));
  if (!dump) throw new Error(`${label}: callgrind wrote no dump of the main thread`);
  const annotated = execFileSync(
    'callgrind_annotate',
    ['--inclusive=yes', '--threshold=100', join(out, dump)],
    {
      maxBuffer: 1 << 28,
    },
  ).toString();
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
