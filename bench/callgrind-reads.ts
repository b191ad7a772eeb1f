// Memory touched per read, counted rather than timed: G1 (or R1) reads spread over many organisations
// and over one, under valgrind's callgrind with a simulated 4 MiB last-level cache, for the main
// thread (the one running the event loop). On a shared machine wall-clock ratios move by about 10 %
// from run to run (bench:many-orgs); these counts barely depend on the machine's load.
//
// npm run bench:callgrind -- [--orgs 10000] [--reads 10000] [--doors graphql,rest] [--commits worktree,HEAD~1]
//
// Needs valgrind (Debian: apt install valgrind); valgrind runs node some fifty times slower, so each
// measure takes minutes (the many- and one-organisation runs of a pair go side by side). Each commit
// ("worktree": the checkout with its changes to tracked files) is a copy built to the bundle, its keys
// kept longer (callgrind-copy.ts). Before the counted reads, every organisation is read
// twice: the first read caches its configuration, the second makes the answer that is then kept.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { preparedCopy } from './callgrind-copy.ts';
import { inTurn, readRequestOf } from './requests.ts';
import { option } from './script-options.ts';
import {
  gatewayEnv,
  type Keyed,
  manyAndOneOrgDatabases,
  runBenchScript,
  startProcess,
  stop,
} from './variant-gateway.ts';

const orgCount = Number(option('orgs', '10000'));
const reads = Number(option('reads', '10000'));
const doors = option('doors', 'graphql').split(',');
const commits = option('commits', 'worktree').split(',');
const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'org-config-callgrind-'));

/** Instructions and last-level data read misses per read, on the main thread, for reads of these targets. */
async function measured(
  dir: string,
  databasePath: string,
  targets: readonly Keyed[],
  door: string,
  label: string,
): Promise<{ instructions: number; misses: number }> {
  const out = join(work, `out-${label}`);
  mkdirSync(out);
  const valgrind = [
    '--tool=callgrind',
    '--cache-sim=yes',
    '--LL=4194304,16,64',
    '--smc-check=all-non-file',
    `--callgrind-out-file=${join(out, 'callgrind.out.%p')}`,
    `--log-file=${join(out, 'valgrind.log')}`,
  ];
  const { url, child } = await startProcess(
    [...valgrind, process.execPath, 'dist/main.js'],
    gatewayEnv(databasePath),
    dir,
    'valgrind',
  );
  // Under valgrind a connection now and then fails to open in time: such a request is not answered,
  // and the reads counted are those answered. Any answer but a 2xx means the copy does not work.
  const load = async (amount: number) => {
    const result = await autocannon({
      url,
      connections: 20,
      amount,
      timeout: 300,
      requests: inTurn(targets, readRequestOf[door]!),
    });
    if (result.non2xx) throw new Error(`${label}: ${result.non2xx} answers other than 2xx`);
    return result['2xx'];
  };
  for (let pass = 0; pass < 2; pass++) await load(targets.length);
  execFileSync('callgrind_control', ['--zero', String(child.pid)], { stdio: 'ignore' });
  const answered = await load(reads);
  execFileSync('callgrind_control', ['--dump', String(child.pid)], { stdio: 'ignore' });
  await stop(child);
  // callgrind names the dumps that callgrind_control asks for OUTFILE.1, .2, ...: this is the only one.
  const dump = readdirSync(out).find((name) => name.endsWith('.1'));
  if (!dump) throw new Error(`${label}: callgrind wrote no dump`);
  return mainThreadCosts(join(out, dump), answered);
}

/**
 * The main thread's costs: the inclusive cost of glibc's __libc_start_main, which only the main
 * thread runs (the others start at clone); valgrind counts all threads of the process in one dump.
 */
function mainThreadCosts(file: string, answered: number): { instructions: number; misses: number } {
  const annotated = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', file], {
    maxBuffer: 1 << 28,
  }).toString();
  const events = /^Events shown:\s+(.*)$/m.exec(annotated)![1]!.trim().split(/\s+/);
  const line = annotated.split('\n').find((text) => text.includes('__libc_start_main'));
  if (!line) throw new Error(`${file}: no main thread in the dump`);
  const counts = line
    .replace(/\([^)]*\)/g, '')
    .trim()
    .split(/\s+/)
    .slice(0, events.length)
    .map((count) => Number(count.replaceAll(',', '')));
  const count = (event: string) => counts[events.indexOf(event)]!;
  return { instructions: count('Ir') / answered, misses: count('DLmr') / answered };
}

async function main(): Promise<void> {
  if (spawnSync('valgrind', ['--version']).status !== 0)
    throw new Error('valgrind is not installed (Debian: apt install valgrind)');
  const { manyDb, oneDb, manyTargets, oneTargets } = await manyAndOneOrgDatabases(work, orgCount);
  for (const [index, commit] of commits.entries()) {
    const dir = preparedCopy(root, work, commit, index);
    for (const door of doors) {
      const [overMany, overOne] = await Promise.all([
        measured(dir, manyDb, manyTargets, door, `${commit}-${door}-many`),
        measured(dir, oneDb, oneTargets, door, `${commit}-${door}-one`),
      ]);
      const figures = (side: { instructions: number; misses: number }) =>
        `${(side.instructions / 1000).toFixed(1)}k instructions, ${side.misses.toFixed(1)} LL data read misses`;
      console.log(
        `${commit} ${door}, per read on the main thread: ${orgCount} orgs ${figures(overMany)} | 1 org ${figures(overOne)}`,
      );
    }
  }
}

runBenchScript(main, work);
