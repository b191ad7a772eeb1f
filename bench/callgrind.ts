// What the callgrind scripts (callgrind-reads.ts, callgrind-widget.ts) share: a commit's gateway
// built for counting, and one process run under callgrind with only the requests to count counted.
//
// The copy is of the commit, or of the working tree, built to dist/main.js, with the key cache's 30 s
// and the per-key limit's minute lengthened to an hour. Valgrind runs node some fifty times slower: at
// that speed every key would otherwise expire between two of its reads.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startProcess, stop } from './variant-gateway.ts';

/** The constants lengthened in the copy: each must be found, or the copy would measure expiring keys. */
const lengthened: [file: string, from: string, to: string][] = [
  ['src/store/cached-store.ts', 'const keyTtlMs = 30_000;', 'const keyTtlMs = 3_600_000;'],
  ['src/edge/guard.ts', 'perKeyPerMinute, duration: 60 }', 'perKeyPerMinute, duration: 3600 }'],
];

/**
 * A copy of `commit` ("worktree": the checkout with its changes to tracked files) of the repository at
 * `root`, in a new folder of `work`, with the constants lengthened, built to dist/main.js; its folder.
 */
export function preparedCopy(root: string, work: string, commit: string, index: number): string {
  const dir = join(work, `${index}-${commit.replace(/\W+/g, '_')}`);
  mkdirSync(dir);
  // `git stash create` makes a commit of the working tree's changes without touching it (nothing when clean).
  const rev =
    commit === 'worktree'
      ? execFileSync('git', ['stash', 'create'], { cwd: root }).toString().trim() || 'HEAD'
      : commit;
  const archive = `${dir}.tar`;
  execFileSync('git', ['archive', '-o', archive, rev], { cwd: root });
  execFileSync('tar', ['-x', '-f', archive, '-C', dir]);
  execFileSync('ln', ['-s', join(root, 'node_modules'), join(dir, 'node_modules')]);
  for (const [file, from, to] of lengthened) {
    const text = readFileSync(join(dir, file), 'utf8');
    if (!text.includes(from))
      throw new Error(`${commit}: "${from}" is not in ${file}; update bench/callgrind.ts`);
    writeFileSync(join(dir, file), text.replace(from, to));
  }
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: dir, stdio: 'inherit' });
  return dir;
}

/** One process under callgrind: what runs, where, and the requests before and during the count. */
export interface CallgrindRun {
  /** Names the folder of its dump and its errors. */
  readonly label: string;
  /** A new folder for valgrind's log and dumps. */
  readonly out: string;
  /** callgrind's options beyond the tool, the output files and the check of JIT code. */
  readonly options: readonly string[];
  /** node's arguments, run in `cwd` with `env`. */
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  readonly cwd: string;
  /** The requests sent before the count (caches filled, code optimised). */
  readonly warmUp: (url: string) => Promise<unknown>;
  /** The requests counted; resolves with how many were answered. */
  readonly counted: (url: string) => Promise<number>;
}

/**
 * Runs the process, zeroes callgrind's counts after the warm-up and dumps them after the counted
 * requests: callgrind_annotate's text of the dump whose name ends with `dumpSuffix` (the dumps that
 * callgrind_control asks for are OUTFILE.1, or OUTFILE.1-TT per thread with --separate-threads),
 * and how many requests were counted.
 */
export async function countedUnderCallgrind(
  run: CallgrindRun,
  dumpSuffix: string,
): Promise<{ annotated: string; answered: number }> {
  mkdirSync(run.out);
  const valgrind = [
    '--tool=callgrind',
    ...run.options,
    '--smc-check=all-non-file',
    `--callgrind-out-file=${join(run.out, 'callgrind.out.%p')}`,
    `--log-file=${join(run.out, 'valgrind.log')}`,
  ];
  const { url, child } = await startProcess(
    [...valgrind, process.execPath, ...run.args],
    run.env,
    run.cwd,
    'valgrind',
  );
  await run.warmUp(url);
  execFileSync('callgrind_control', ['--zero', String(child.pid)], { stdio: 'ignore' });
  const answered = await run.counted(url);
  execFileSync('callgrind_control', ['--dump', String(child.pid)], { stdio: 'ignore' });
  await stop(child);
  const dump = readdirSync(run.out).find((name) => name.endsWith(dumpSuffix));
  if (!dump) throw new Error(`${run.label}: callgrind wrote no dump ending ${dumpSuffix}`);
  const annotated = execFileSync(
    'callgrind_annotate',
    ['--inclusive=yes', '--threshold=100', join(run.out, dump)],
    {
      maxBuffer: 1 << 28,
    },
  ).toString();
  return { annotated, answered };
}

/**
 * Sends these requests `amount` times in all under valgrind (a long timeout); how many were answered.
 * Under valgrind a connection now and then fails to open in time: such a request is not answered, and
 * the requests counted are those answered. Any answer but a 2xx means the copy does not work.
 */
export async function answeredUnderValgrind(
  label: string,
  url: string,
  connections: number,
  amount: number,
  requests: autocannon.Request[],
): Promise<number> {
  const result = await autocannon({ url, connections, amount, timeout: 300, requests });
  if (result.non2xx) throw new Error(`${label}: ${result.non2xx} answers other than 2xx`);
  return result['2xx'];
}
