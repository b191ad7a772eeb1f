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
// kept longer (callgrind.ts). Before the counted reads, every organisation is read
// twice: the first read caches its configuration, the second makes the answer that is then kept.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answeredUnderValgrind, countedUnderCallgrind, preparedCopy } from './callgrind.ts';
import { inTurn, readRequestOf } from './requests.ts';
import { option } from './script-options.ts';
import { gatewayEnv, type Keyed, manyAndOneOrgDatabases, runBenchScript } from './variant-gateway.ts';

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
  const load = (url: string, amount: number) =>
    answeredUnderValgrind(label, url, 20, amount, inTurn(targets, readRequestOf[door]!));
  const { annotated, answered } = await countedUnderCallgrind(
    {
      label,
      out: join(work, `out-${label}`),
      options: ['--cache-sim=yes', '--LL=4194304,16,64'],
      args: ['dist/main.js'],
      env: gatewayEnv(databasePath),
      cwd: dir,
      warmUp: async (url) => {
        for (let pass = 0; pass < 2; pass++) await load(url, targets.length);
      },
      counted: (url) => load(url, reads),
    },
    // Without --separate-threads the one dump holds every thread.
    '.1',
  );
  return mainThreadCosts(annotated, label, answered);
}

/**
 * The main thread's costs: the inclusive cost of glibc's __libc_start_main, which only the main
 * thread runs (the others start at clone); valgrind counts all threads of the process in one dump.
 */
function mainThreadCosts(
  annotated: string,
  label: string,
  answered: number,
): { instructions: number; misses: number } {
  const events = /^Events shown:\s+(.*)$/m.exec(annotated)![1]!.trim().split(/\s+/);
  const line = annotated.split('\n').find((text) => text.includes('__libc_start_main'));
  if (!line) throw new Error(`${label}: no main thread in the dump`);
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
