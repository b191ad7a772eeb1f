// A commit's gateway built for counting under valgrind (callgrind-reads.ts, callgrind-widget.ts):
// a copy of the commit, or of the working tree, built to dist/main.js, with the key cache's 30 s and
// the per-key limit's minute lengthened to an hour. Valgrind runs node some fifty times slower: at
// that speed every key would otherwise expire between two of its reads.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
      throw new Error(`${commit}: "${from}" is not in ${file}; update bench/callgrind-copy.ts`);
    writeFileSync(join(dir, file), text.replace(from, to));
  }
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: dir, stdio: 'inherit' });
  return dir;
}
